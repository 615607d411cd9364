import CTaskReaper

/// Process-wide memory settings for programs that handle messages of up to several MiB.
public enum ProcessMemory {
    /// Blocks of 1 MiB and more are given back to the system when freed, instead of staying
    /// with the process after the largest message it ever handled (glibc's default).
    public static func returnLargeBlocksToSystem() {
        warren_return_large_blocks()
    }
}
