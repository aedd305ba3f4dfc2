#include "cvirt_memory.h"

#include <linux/memfd.h>
#include <sys/mman.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* <linux/mman.h> since Linux 5.14 */
#endif

const unsigned int CVIRT_MFD_CLOEXEC = MFD_CLOEXEC;
const unsigned int CVIRT_MFD_HUGETLB = MFD_HUGETLB;
const int CVIRT_MADV_MERGEABLE = MADV_MERGEABLE;
const int CVIRT_MADV_UNMERGEABLE = MADV_UNMERGEABLE;
const int CVIRT_MAP_HUGETLB = MAP_HUGETLB;
const int CVIRT_MAP_NORESERVE = MAP_NORESERVE;
const int CVIRT_MADV_POPULATE_WRITE = MADV_POPULATE_WRITE;
const int CVIRT_MAP_HUGE_SHIFT = MAP_HUGE_SHIFT;
const int CVIRT_MFD_HUGE_SHIFT = MFD_HUGE_SHIFT;

int cvirt_memfd_create(const char *name, unsigned int flags) {
    return memfd_create(name, flags);
}
