#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Work a kernel splits into ranges of a loop, which threads may run in parallel.
/// Kernels describe it as a struct rather than a closure: handing a closure to another
/// thread means `withoutActuallyEscaping`, which allocates on every call.
public protocol ParallelWork {
    func run(_ range: Range<Int>)
}

/// A fixed set of worker threads, created once, that run the parallel loops of kernels.
///
/// `parallelChunks` publishes a job (a pointer to the work and a task count), takes part
/// in it, and returns when every task has run. Nothing is allocated per job. Workers spin
/// briefly between jobs, since a network's layers follow each other within microseconds,
/// and then sleep on a condition variable.
public final class ThreadPool: @unchecked Sendable {
    public let threadCount: Int

    private var workers: [pthread_t] = []
    /// Bumped once per job; workers compare it with the last job they saw.
    private let generation = Atomic<Int>(0)
    /// (generation << 32) | index of the next task to hand out.
    private let ticket = Atomic<Int>(0)
    /// Tasks of the current job not yet finished.
    private let pending = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private var taskCount = 0
    private var itemCount = 0
    /// The current job: its work, and a function that runs a range of it. The function is
    /// made where the work's type is concrete, so workers run code specialized (and
    /// compiled for the target CPU) in the caller's module, not the generic witness here.
    private var work: UnsafeRawPointer?
    private var runRange: (UnsafeRawPointer, Range<Int>) -> Void = { _, _ in }
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wakeUp: UnsafeMutablePointer<pthread_cond_t>
    private var sleepers = 0

    /// Iterations a worker polls for the next job before it sleeps.
    private static let spinLimit = 200_000

    /// A pool of `threads` threads in all: the caller plus `threads - 1` workers.
    public init(threads: Int = 1) {
        threadCount = max(1, threads)
        mutex = .allocate(capacity: 1)
        wakeUp = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wakeUp, nil)
        for _ in 1..<threadCount {
            var thread = pthread_t()
            let context = Unmanaged.passUnretained(self).toOpaque()
            let status = pthread_create(&thread, nil, { context in
                Unmanaged<ThreadPool>.fromOpaque(context!).takeUnretainedValue().workerLoop()
                return nil
            }, context)
            precondition(status == 0, "cannot create a worker thread (error \(status))")
            workers.append(thread)
        }
    }

    deinit {
        stopping.store(true, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(wakeUp)
        pthread_mutex_unlock(mutex)
        for thread in workers { pthread_join(thread, nil) }
        pthread_cond_destroy(wakeUp)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        wakeUp.deallocate()
    }

    /// Runs `work` over 0..<count split into ranges of at least `grain` items, a few per
    /// thread for balance, and returns when all are done.
    @inlinable
    public func parallelChunks<Work: ParallelWork>(_ count: Int, grain: Int, _ work: Work) {
        guard count > 0 else { return }
        let tasks = threadCount == 1 ? 1 : min((count + grain - 1) / grain, threadCount * 4)
        if tasks <= 1 {
            work.run(0..<count)
            return
        }
        withUnsafePointer(to: work) { pointer in
            // Captures nothing once specialized, so it is a plain function pointer.
            dispatch(UnsafeRawPointer(pointer), items: count, tasks: tasks) { work, range in
                work.assumingMemoryBound(to: Work.self).pointee.run(range)
            }
        }
    }

    @usableFromInline
    func dispatch(_ work: UnsafeRawPointer, items: Int, tasks: Int, run: @escaping (UnsafeRawPointer, Range<Int>) -> Void) {
        self.work = work
        runRange = run
        itemCount = items
        taskCount = tasks
        pending.store(tasks, ordering: .relaxed)
        let next = generation.load(ordering: .relaxed) + 1
        ticket.store(next << 32, ordering: .releasing)
        pthread_mutex_lock(mutex)
        generation.store(next, ordering: .releasing)
        if sleepers > 0 { pthread_cond_broadcast(wakeUp) }
        pthread_mutex_unlock(mutex)
        runTasks(of: next)
        // A worker may be descheduled mid-task when the machine is oversubscribed; after a
        // short spin, yield the core to it rather than burn the time slice.
        var spins = 0
        while pending.load(ordering: .acquiring) > 0 {
            spins += 1
            if spins > 1_000 { sched_yield() }
        }
        self.work = nil
    }

    private func runTasks(of job: Int) {
        while true {
            let current = ticket.load(ordering: .acquiring)
            guard current >> 32 == job else { return }
            let index = current & 0xFFFF_FFFF
            guard index < taskCount else { return }
            guard ticket.compareExchange(expected: current, desired: current + 1, ordering: .acquiringAndReleasing).exchanged else { continue }
            runRange(work!, itemCount * index / taskCount ..< itemCount * (index + 1) / taskCount)
            pending.subtract(1, ordering: .releasing)
        }
    }

    private func workerLoop() {
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                if stopping.load(ordering: .relaxed) { return }
                spins += 1
                if spins % 1_000 == 0 { sched_yield() }
                if spins >= Self.spinLimit {
                    pthread_mutex_lock(mutex)
                    sleepers += 1
                    while generation.load(ordering: .acquiring) == seen && !stopping.load(ordering: .relaxed) {
                        pthread_cond_wait(wakeUp, mutex)
                    }
                    sleepers -= 1
                    pthread_mutex_unlock(mutex)
                    spins = 0
                }
            }
            seen = generation.load(ordering: .acquiring)
            runTasks(of: seen)
        }
    }
}
