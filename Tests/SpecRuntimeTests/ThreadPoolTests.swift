import Foundation
import SpecRuntime
import Testing

/// Every item of every job runs exactly once, also when the machine is oversubscribed:
/// four pools of two threads (eight threads on this 2-core machine) each run thousands of
/// small jobs back to back, with task counts that change from one job to the next, so a
/// worker is often preempted in the middle of claiming a task while its pool's caller
/// moves on to the next job.
@Suite struct ThreadPoolTests {
    /// Adds one to each item of its range.
    struct Count: ParallelWork {
        let counts: UnsafeMutablePointer<Int32>
        func run(_ range: Range<Int>) {
            for item in range { counts[item] += 1 }
        }
    }

    @Test("every item of every job runs exactly once, with more threads than cores")
    func exactlyOnce() async {
        let jobs = 20_000
        let failures = await withTaskGroup(of: Int.self) { group in
            for pool in 0..<4 {
                group.addTask {
                    let threads = ThreadPool(threads: 2)
                    let counts = UnsafeMutablePointer<Int32>.allocate(capacity: 64)
                    defer { counts.deallocate() }
                    var failures = 0
                    for job in 0..<jobs {
                        let items = 2 + (job * 7 + pool) % 62
                        counts.initialize(repeating: 0, count: items)
                        threads.parallelChunks(items, grain: 1 + job % 5, Count(counts: counts))
                        if (0..<items).contains(where: { counts[$0] != 1 }) { failures += 1 }
                    }
                    return failures
                }
            }
            return await group.reduce(0, +)
        }
        #expect(failures == 0, "\(failures) of \(4 * jobs) jobs ran an item other than once")
    }
}
