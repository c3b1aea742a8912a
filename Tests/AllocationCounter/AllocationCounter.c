// Interposes glibc's allocator in the test binary to count heap allocations per thread,
// so a test can assert that an inference allocates nothing. Per-thread counts are immune
// to tests running in parallel on other threads.
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include "AllocationCounter.h"

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void __libc_free(void *pointer);

// initial-exec: a fixed offset from the thread pointer. The default model for position-
// independent code goes through __tls_get_addr, which may itself call malloc to set up a new
// thread's block: re-entering this allocator and corrupting memory.
static _Thread_local long allocations __attribute__((tls_model("initial-exec"))) = 0;

long allocation_count_this_thread(void) { return allocations; }

void *malloc(size_t size) { allocations++; return __libc_malloc(size); }
void *calloc(size_t count, size_t size) { allocations++; return __libc_calloc(count, size); }
void *realloc(void *pointer, size_t size) { allocations++; return __libc_realloc(pointer, size); }
void free(void *pointer) { __libc_free(pointer); }
void *memalign(size_t alignment, size_t size) { allocations++; return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { allocations++; return __libc_memalign(alignment, size); }
int posix_memalign(void **result, size_t alignment, size_t size) {
    allocations++;
    void *pointer = __libc_memalign(alignment, size);
    if (!pointer) return ENOMEM;
    *result = pointer;
    return 0;
}
