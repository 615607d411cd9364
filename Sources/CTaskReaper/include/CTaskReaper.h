#ifndef WARREN_CTASKREAPER_H
#define WARREN_CTASKREAPER_H

/// Runs a task's program under a small reaper and never returns. Called in a process the worker
/// (process id `worker`) started as a session leader: it starts `path` with `argv` as its child in the same process
/// group, then either mirrors the child's end (the same exit status, or the same signal) or,
/// as soon as the worker is gone (checked every 100 ms: this process's parent is no longer
/// `worker`), kills the whole process group, the task's own children included. SIGTERM, SIGINT
/// and SIGHUP meant for the group reach the task itself; the reaper waits on.
void warren_task_reaper(int worker, const char *path, char *const argv[]);

/// Makes blocks of 1 MiB and more always come from mmap, so that they go back to the system
/// when freed. glibc's default raises that threshold to the largest block freed so far: after
/// one large message, the next ones came from the heap, and their memory stayed with the process.
void warren_return_large_blocks(void);

#endif
