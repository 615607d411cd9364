#define _GNU_SOURCE
#include "CTaskReaper.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// Not PR_SET_PDEATHSIG: it fires when the worker *thread* that spawned the reaper exits, which
// a thread pool may do at any time; a changed parent is the process's death, and only that.

static void pass(int signal) {
    (void)signal;  // the group's SIGTERM/SIGINT/SIGHUP reach the task directly
}

static void mirror(int status) {
    if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
    int signal_number = WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
    struct sigaction plain = {0};
    plain.sa_handler = SIG_DFL;
    sigaction(signal_number, &plain, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signal_number);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(signal_number);
    _exit(128 + signal_number);
}

void warren_task_reaper(int worker, const char *path, char *const argv[]) {
    struct sigaction waiting = {0};
    waiting.sa_handler = pass;
    sigaction(SIGTERM, &waiting, NULL);
    sigaction(SIGINT, &waiting, NULL);
    sigaction(SIGHUP, &waiting, NULL);
    sigset_t child_ended, previous;
    sigemptyset(&child_ended);
    sigaddset(&child_ended, SIGCHLD);
    sigprocmask(SIG_BLOCK, &child_ended, &previous);

    pid_t child = fork();
    if (child < 0) {
        fprintf(stderr, "warren: could not start %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    if (child == 0) {
        // Handled signals reset on exec; the mask is restored here, so the task sees the
        // worker's signals as if it had no reaper.
        sigprocmask(SIG_SETMASK, &previous, NULL);
        execv(path, argv);
        fprintf(stderr, "warren: could not run %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    const struct timespec tick = {0, 100 * 1000 * 1000};
    for (;;) {
        int status = 0;
        pid_t ended = waitpid(child, &status, WNOHANG);
        if (ended == child) mirror(status);
        if (ended < 0 && errno != EINTR) _exit(127);
        if (getppid() != worker) {
            kill(0, SIGKILL);  // the whole group: the task, its children, and this reaper
            _exit(137);
        }
        sigtimedwait(&child_ended, NULL, &tick);
    }
}
