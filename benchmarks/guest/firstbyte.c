/* firstbyte: runs a command and reports, in microseconds from just before its fork, when the command exited
 * and when the file FILE first became non-empty (watched with inotify, so the wake-up follows the write).
 *   firstbyte [--kill] [--timeout MS] FILE -- COMMAND [ARG...]
 * --kill sends SIGKILL to the command once the byte arrived (for QEMU, which runs on); otherwise the command
 * is waited for. Prints "first_byte_us=N exit_us=N status=N". FILE must exist (created empty by the caller). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static int nonempty(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && st.st_size > 0;
}

int main(int argc, char **argv) {
    int kill_child = 0, timeout_ms = 30000, i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--kill") == 0) kill_child = 1;
        else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) timeout_ms = atoi(argv[++i]);
        else { fprintf(stderr, "firstbyte: unknown option %s\n", argv[i]); return 2; }
    }
    if (i + 2 >= argc || strcmp(argv[i + 1], "--") != 0) {
        fprintf(stderr, "usage: firstbyte [--kill] [--timeout MS] FILE -- COMMAND [ARG...]\n");
        return 2;
    }
    const char *file = argv[i];
    char **command = &argv[i + 2];
    int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (in < 0 || inotify_add_watch(in, file, IN_MODIFY) < 0) {
        fprintf(stderr, "firstbyte: cannot watch %s: %s\n", file, strerror(errno));
        return 2;
    }
    long long start = now_us(), first = -1, exited = -1;
    int status = -1;
    pid_t pid = fork();
    if (pid == 0) {
        execvp(command[0], command);
        fprintf(stderr, "firstbyte: cannot run %s: %s\n", command[0], strerror(errno));
        _exit(127);
    }
    while (first < 0 || (exited < 0 && !kill_child)) {
        if (now_us() - start > (long long)timeout_ms * 1000) {
            fprintf(stderr, "firstbyte: timed out after %d ms (first byte %s, command %s)\n", timeout_ms,
                    first < 0 ? "not seen" : "seen", exited < 0 ? "running" : "ended");
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            return 1;
        }
        struct pollfd p = {.fd = in, .events = POLLIN};
        /* inotify wakes us on the write; the short timeout only serves to notice the command's exit. */
        poll(&p, 1, exited < 0 ? 1 : 100);
        if (p.revents & POLLIN) {
            char buffer[4096];
            while (read(in, buffer, sizeof buffer) > 0) {}
        }
        if (first < 0 && nonempty(file)) first = now_us() - start;
        if (exited < 0 && waitpid(pid, &status, WNOHANG) == pid) exited = now_us() - start;
    }
    if (exited < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    printf("first_byte_us=%lld exit_us=%lld status=%d\n", first, exited,
           WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}
