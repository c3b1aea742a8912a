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
///
/// Each thread first takes its own contiguous share of a job's tasks (the caller the first
/// share, worker i the (i+1)-th), so consecutive layers split the same way run the same
/// rows on the same core and read what that core just wrote from its own cache. Handing
/// tasks out first come, first served moved half of every layer's input between cores.
/// A thread that runs out takes the last unclaimed task of another share, so a worker the
/// OS has descheduled only costs its unstarted tasks.
public final class ThreadPool: @unchecked Sendable {
    public let threadCount: Int

    private var workers: [pthread_t] = []
    /// Bumped once per job; workers compare it with the last job they saw.
    private let generation = Atomic<Int>(0)
    /// (generation << 32) | one bit per task of the current job already claimed.
    private let claims = Atomic<Int>(0)
    /// Hands each worker its index as it starts.
    private let nextWorkerIndex = Atomic<Int>(1)
    /// Tasks of the current job not yet finished.
    private let pending = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    /// Per task index: the generation of the last job in which that task called `publish`.
    private let published: [PublishedFlag]
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

    /// Every task bit set: a job no one can claim from.
    private static let allClaimed = 0xFFFF_FFFF

    /// Iterations a worker polls for the next job before it sleeps.
    private static let spinLimit = 200_000

    /// A pool of `threads` threads in all: the caller plus `threads - 1` workers.
    public init(threads: Int = 1) {
        // Claims are one bit per task in 32 bits, and a job has at most 4 tasks per thread.
        threadCount = min(max(1, threads), 8)
        published = (0..<threadCount).map { _ in PublishedFlag() }
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
        // Close the new job before its fields change: a worker still looking at the last
        // job (preempted between reading the claims and claiming) would otherwise see the
        // new task count, claim a task the last job never had, and run the new job's task
        // twice. Its claim now fails, since the claims word has moved on.
        let next = generation.load(ordering: .relaxed) + 1
        claims.store(next << 32 | Self.allClaimed, ordering: .sequentiallyConsistent)
        self.work = work
        runRange = run
        itemCount = items
        taskCount = tasks
        pending.store(tasks, ordering: .relaxed)
        claims.store(next << 32, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        generation.store(next, ordering: .releasing)
        if sleepers > 0 { pthread_cond_broadcast(wakeUp) }
        pthread_mutex_unlock(mutex)
        runTasks(of: next, thread: 0)
        // A worker may be descheduled mid-task when the machine is oversubscribed; after a
        // short spin, yield the core to it rather than burn the time slice.
        var spins = 0
        while pending.load(ordering: .acquiring) > 0 {
            spins += 1
            if spins > 1_000 { sched_yield() }
        }
        self.work = nil
    }

    /// Called from task `task` of the running job: what it wrote so far may now be read by
    /// the job's other tasks that `waitForPublished(task)`.
    public func publish(task: Int) {
        published[task].generation.store(generation.load(ordering: .relaxed), ordering: .releasing)
    }

    /// Called from a task of the running job: returns once task `task` of this job has
    /// published. Only for jobs of at most `threadCount` tasks, so that every task runs on
    /// a thread of its own and the task waited for is never queued behind the waiting one.
    public func waitForPublished(task: Int) {
        let job = generation.load(ordering: .relaxed)
        var spins = 0
        while published[task].generation.load(ordering: .acquiring) != job {
            spins += 1
            if spins > 1_000 { sched_yield() }
        }
    }

    private func runTasks(of job: Int, thread: Int) {
        while true {
            let current = claims.load(ordering: .acquiring)
            guard current >> 32 == job else { return }
            let tasks = taskCount
            let free = ~current & ((1 << tasks) - 1)
            guard free != 0 else { return }
            // The first unclaimed task of this thread's share, else the last unclaimed one.
            let share = ((tasks * thread / threadCount) ..< (tasks * (thread + 1) / threadCount))
            let ownFree = free & ((1 << share.upperBound) - (1 << share.lowerBound))
            let index = ownFree != 0 ? ownFree.trailingZeroBitCount : Int.bitWidth - 1 - free.leadingZeroBitCount
            guard claims.compareExchange(expected: current, desired: current | (1 << index),
                                         ordering: .acquiringAndReleasing).exchanged else { continue }
            runRange(work!, itemCount * index / tasks ..< itemCount * (index + 1) / tasks)
            pending.subtract(1, ordering: .releasing)
        }
    }

    private func workerLoop() {
        let index = nextWorkerIndex.wrappingAdd(1, ordering: .relaxed).oldValue
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
            runTasks(of: seen, thread: index)
        }
    }
}

/// One task's publication mark (a class, since an `Atomic` cannot sit in an array).
private final class PublishedFlag {
    let generation = Atomic<Int>(0)
}
