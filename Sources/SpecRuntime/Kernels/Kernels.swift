import SpecSIMD

/// The kernels generated networks call. All tensors are one image, NHWC (channels
/// innermost), float32, in the network's arena; weights are packed by `WeightLoader` in
/// the order each kernel reads them. Every kernel is generic over its activation and
/// @inlinable, so it is specialized (and compiled for the target CPU) inside the module
/// of the generated network that calls it. The few that are not generic are also
/// @inline(__always): otherwise the call may go to this module's own copy, compiled
/// for the baseline CPU (SSE2).
public enum Kernels {
    /// Layers with this many bytes of 1×1 weights or more fetch the next weight panel into
    /// L2 while their tiles run over the current one (see `PointwiseConv.run`).
    @inlinable
    static var prefetchedWeightBytes: Int { 128 * 1024 }

    /// Prefetches into L2 up to `count` more of a weight panel's `rows` rows of 16 floats,
    /// from row `next` on, and advances `next`: a tile's share of the panel after its own.
    @inlinable @inline(__always)
    static func prefetchPanelRows(_ panel: UnsafePointer<Float>, next: inout Int, count: Int, rows: Int) {
        let end = min(rows, next + count)
        while next < end {
            spec_prefetch_l2(panel + next * 16)
            next += 1
        }
    }

    /// Whether the code that inlines this is compiled for AVX-512 (32 vector registers),
    /// where kernels take wider tiles that would spill on AVX2.
    @inlinable @inline(__always)
    static var has32VectorRegisters: Bool { spec_has_32_vector_registers() != 0 }

    /// Copies a CHW image (PyTorch's layout) into an HWC tensor.
    @inlinable @inline(__always)
    public static func imageToNHWC(
        _ image: UnsafePointer<Float>, channels: Int, height: Int, width: Int, output: UnsafeMutablePointer<Float>
    ) {
        let plane = height * width
        for p in 0..<plane {
            for c in 0..<channels { output[p * channels + c] = image[c * plane + p] }
        }
    }

    /// output = activation(input), elementwise; `output` may be `input`.
    @inlinable
    public static func activate<A: ActivationFunction>(_ input: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>, activation: A.Type) {
        var i = 0
        while i < count {
            store(A.apply(load(input + i, count: count - i)), output + i, count: count - i)
            i += 16
        }
    }

    /// output = a + b, elementwise; `output` may be `a` or `b`.
    @inlinable @inline(__always)
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>) {
        var i = 0
        while i < count {
            store(load(a + i, count: count - i) + load(b + i, count: count - i), output + i, count: count - i)
            i += 16
        }
    }

    /// Average over all pixels, per channel: [pixels × channels] → [channels].
    @inlinable @inline(__always)
    public static func globalAveragePool(
        input: UnsafePointer<Float>, pixels: Int, channels: Int, output: UnsafeMutablePointer<Float>
    ) {
        globalAveragePool(input: input, pixels: pixels, channels: channels, output: output, before: Identity.self, after: Identity.self)
    }

    /// after(mean over pixels of before(x)), per channel.
    @inlinable
    public static func globalAveragePool<Before: ActivationFunction, After: ActivationFunction>(
        input: UnsafePointer<Float>, pixels: Int, channels: Int, output: UnsafeMutablePointer<Float>,
        before: Before.Type, after: After.Type
    ) {
        let scale = 1 / Float(pixels)
        var c = 0
        while c < channels {
            let n = min(16, channels - c)
            var sum = Vec.zero
            var p = input + c
            for _ in 0..<pixels {
                sum += Before.apply(load(p, count: n))
                p += channels
            }
            store(After.apply(sum * scale), output + c, count: n)
            c += 16
        }
    }

    /// Multiplies every pixel's channels by `gate`, in place.
    @inlinable @inline(__always)
    public static func scaleChannels(
        _ tensor: UnsafeMutablePointer<Float>, pixels: Int, channels: Int, gate: UnsafePointer<Float>, threads: ThreadPool
    ) {
        threads.parallelChunks(pixels, grain: 64, ScaleChannels(tensor: tensor, channels: channels, gate: gate))
    }
}

@usableFromInline
struct ScaleChannels: ParallelWork {
    @usableFromInline let tensor: UnsafeMutablePointer<Float>
    @usableFromInline let channels: Int
    @usableFromInline let gate: UnsafePointer<Float>

    @inlinable
    init(tensor: UnsafeMutablePointer<Float>, channels: Int, gate: UnsafePointer<Float>) {
        self.tensor = tensor
        self.channels = channels
        self.gate = gate
    }

    @inlinable @inline(__always)
    func run(_ pixels: Range<Int>) {
        for p in pixels {
            let row = tensor + p * channels
            var c = 0
            while c < channels {
                let n = min(16, channels - c)
                store(load(row + c, count: n) * load(gate + c, count: n), row + c, count: n)
                c += 16
            }
        }
    }
}
