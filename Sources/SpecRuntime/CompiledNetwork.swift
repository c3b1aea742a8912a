#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Zeroed memory, 64-byte aligned (a cache line, and one AVX-512 vector); from 2 MB up,
/// aligned to and rounded up to whole 2 MB pages.
public final class AlignedBuffer: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let floats: Int

    public init(floats: Int) {
        self.floats = floats
        let capacity = max(floats, 1), bytes = capacity * MemoryLayout<Float>.size
        // Buffers of 2 MB and more (weights, large arenas) go on 2 MB pages where the
        // kernel offers them on request (Linux THP "madvise"): streaming 20 MB of weights
        // through 4 KB pages walks the page tables every 64 cache lines.
        let huge = bytes >= Self.hugePage
        let byteCount = huge ? roundUp(bytes, Self.hugePage) : bytes
        let raw = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: huge ? Self.hugePage : 64)
        #if canImport(Glibc)
        if huge { _ = madvise(raw, byteCount, MADV_HUGEPAGE) }
        #endif
        pointer = raw.bindMemory(to: Float.self, capacity: capacity)
        pointer.initialize(repeating: 0, count: capacity)
    }

    static let hugePage = 2 << 20

    public convenience init(bytes: Int) { self.init(floats: (bytes + 3) / 4) }

    deinit { pointer.deallocate() }
}

/// What every generated network shares: packed weights, the arena, the thread pool.
/// Everything is allocated here, once; inference allocates nothing.
public final class NetworkState: @unchecked Sendable {
    public let info: NetworkInfo
    public let weights: AlignedBuffer
    public let arena: AlignedBuffer
    public let threads: ThreadPool
    /// With more than one thread, one arena per thread (the first is `arena`): a batch runs
    /// that many images side by side, each on one core. Memory is then threads × arenaBytes.
    public let imageArenas: [AlignedBuffer]
    /// The pool an image run side by side with others uses: itself, no workers.
    public let serial: ThreadPool
    /// The convention the checkpoint was read with.
    public let convention: Convention

    public init(_ info: NetworkInfo, checkpoint: some Checkpoint, convention: String? = nil, threads: Int = 1) throws {
        self.info = info
        weights = AlignedBuffer(floats: info.weightFloats)
        self.convention = try WeightLoader.load(info, from: checkpoint, convention: convention, into: weights.pointer)
        arena = AlignedBuffer(bytes: info.arenaBytes)
        self.threads = ThreadPool(threads: threads)
        let lanes = self.threads.threadCount
        imageArenas = [arena] + (1..<max(1, lanes)).map { _ in AlignedBuffer(bytes: info.arenaBytes) }
        serial = lanes == 1 ? self.threads : ThreadPool(threads: 1)
    }
}

/// A network compiled by speccc from a spec. `run` is the generated code.
public protocol CompiledNetwork: AnyObject, Sendable {
    static var info: NetworkInfo { get }
    var state: NetworkState { get }
    /// Reads weights (see `WeightLoader`) and creates `threads` - 1 worker threads.
    init(checkpoint: some Checkpoint, convention: String?, threads: Int) throws
    /// One image through `arena` (`info.arenaBytes`), its layers split over `threads`.
    func run(image: UnsafePointer<Float>, logits: UnsafeMutablePointer<Float>, arena: UnsafeMutablePointer<Float>,
             threads: ThreadPool, timeline: UnsafeMutablePointer<UInt64>?)
}

extension CompiledNetwork {
    /// One image: `image` holds channels × height × width floats (CHW, as PyTorch holds
    /// an image), `logits` receives `classes` floats. With a `timeline` of
    /// `info.kernels.count` slots, each layer's end time (ns) is recorded there.
    public func run(image: UnsafePointer<Float>, logits: UnsafeMutablePointer<Float>, timeline: UnsafeMutablePointer<UInt64>?) {
        run(image: image, logits: logits, arena: state.arena.pointer, threads: state.threads, timeline: timeline)
    }

    public func run(image: UnsafePointer<Float>, logits: UnsafeMutablePointer<Float>) {
        run(image: image, logits: logits, timeline: nil)
    }

    /// A batch: `images` is N×C×H×W (NCHW), `logits` N×classes. With T threads, images go
    /// T side by side, each whole image on one thread in its own arena: no layer waits for
    /// the slower thread, and late layers, too small to split well, run at one core's
    /// speed on each. What is left over (N mod T) runs one image at a time over all threads.
    /// Every image's logits are the same, bit for bit, either way.
    public func predict(images: UnsafePointer<Float>, count: Int, logits: UnsafeMutablePointer<Float>) {
        let info = Self.info, lanes = state.imageArenas.count
        let sideBySide = lanes > 1 ? count / lanes * lanes : 0
        if sideBySide > 0 {
            // One task per arena. The job is this concrete type's, not parallelChunks' generic
            // one, whose context unoptimized builds allocate.
            withUnsafePointer(to: ImageLanes(network: self, images: images, count: sideBySide, logits: logits)) { job in
                state.threads.dispatch(UnsafeRawPointer(job), items: lanes, tasks: lanes) { job, range in
                    job.assumingMemoryBound(to: ImageLanes.self).pointee.run(range)
                }
            }
        }
        for n in sideBySide..<count {
            run(image: images + n * info.inputElements, logits: logits + n * info.classes)
        }
    }

    /// The same on arrays; checks the sizes.
    public func predict(images: [Float]) -> [Float] {
        let info = Self.info
        precondition(images.count % info.inputElements == 0, "\(images.count) floats is not a whole number of \(info.inputChannels)x\(info.inputHeight)x\(info.inputWidth) images")
        let count = images.count / info.inputElements
        var logits = [Float](repeating: 0, count: count * info.classes)
        images.withUnsafeBufferPointer { input in
            logits.withUnsafeMutableBufferPointer { output in
                predict(images: input.baseAddress!, count: count, logits: output.baseAddress!)
            }
        }
        return logits
    }
}

/// A batch's images split into one contiguous share per arena. The pool runs task i once,
/// on whichever thread claims it, so share i always has arena i to itself.
struct ImageLanes: ParallelWork {
    let network: any CompiledNetwork
    let images: UnsafePointer<Float>
    let count: Int
    let logits: UnsafeMutablePointer<Float>

    func run(_ lanes: Range<Int>) {
        let state = network.state, info = state.info, arenas = state.imageArenas.count
        for lane in lanes {
            for n in (count * lane / arenas)..<(count * (lane + 1) / arenas) {
                network.run(image: images + n * info.inputElements, logits: logits + n * info.classes,
                            arena: state.imageArenas[lane].pointer, threads: state.serial, timeline: nil)
            }
        }
    }
}

/// Monotonic time for per-layer profiles, without allocating.
public enum Profiling {
    @inlinable @inline(__always)
    public static func mark(_ timeline: UnsafeMutablePointer<UInt64>?, _ layer: Int) {
        guard let timeline else { return }
        timeline[layer] = now()
    }

    public static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
