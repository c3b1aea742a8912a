#ifndef ALLOCATION_COUNTER_H
#define ALLOCATION_COUNTER_H

/// Heap allocations (malloc, calloc, realloc, memalign and friends) made so far by the
/// calling thread. The test binary links this file, which interposes the allocator.
long allocation_count_this_thread(void);

#endif
