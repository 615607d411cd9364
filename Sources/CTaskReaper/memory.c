#include "CTaskReaper.h"

#include <malloc.h>

void warren_return_large_blocks(void) {
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
}
