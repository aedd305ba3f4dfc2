/* faultin: what the kernel alone needs to fault in guest RAM of huge pages, for the huge-page start benchmark.
 *   faultin MIB [PAGE_KIB]     (default page 2048)
 * Maps MIB MiB of PAGE_KIB huge pages (MAP_HUGETLB, private, as the hypervisor's RAM) and faults every page in
 * with MADV_POPULATE_WRITE, the call the hypervisor makes, then unmaps it. Prints "fault_us=N unmap_us=N", the
 * time of the mmap + populate and of the munmap (CLOCK_MONOTONIC). Exit status 1 when the pages are not there. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif

static long long now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: faultin MIB [PAGE_KIB]\n");
        return 2;
    }
    size_t length = (size_t)atol(argv[1]) << 20;
    long page_kib = argc > 2 ? atol(argv[2]) : 2048;
    int shift = __builtin_ctzl((unsigned long)page_kib << 10);
    long long start = now_us();
    void *memory = mmap(NULL, length, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (shift << MAP_HUGE_SHIFT), -1, 0);
    if (memory == MAP_FAILED) {
        fprintf(stderr, "faultin: mmap of %zu bytes of %ld KiB pages: %s\n", length, page_kib, strerror(errno));
        return 1;
    }
    if (madvise(memory, length, MADV_POPULATE_WRITE) != 0) {
        fprintf(stderr, "faultin: MADV_POPULATE_WRITE: %s\n", strerror(errno));
        return 1;
    }
    long long faulted = now_us();
    munmap(memory, length);
    printf("fault_us=%lld unmap_us=%lld\n", faulted - start, now_us() - faulted);
    return 0;
}
