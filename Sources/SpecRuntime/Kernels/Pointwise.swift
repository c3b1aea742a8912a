/// 1×1 convolution over an NHWC tensor: a GEMM of [pixels × in] by [in × out].
///
/// Weights are packed at load time into panels of 32 output channels (16 for the last
/// one when fewer remain), each panel [in][32], zero-padded, then the bias (padded to 16).
/// The microkernel keeps a 6-pixel × 32-channel tile of results in 12 registers: per input
/// channel it loads two weight vectors and broadcasts six pixel values.
public enum PointwisePacking {
    public static func floats(inChannels: Int, outChannels: Int) -> Int {
        let padded = roundUp(outChannels, 16)
        return inChannels * padded + padded
    }
}

extension Kernels {
    @inlinable
    public static func pointwiseConv<A: ActivationFunction>(
        input: UnsafePointer<Float>, pixels: Int, inChannels: Int,
        weights: UnsafePointer<Float>, outChannels: Int,
        residual: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
        activation: A.Type, threads: ThreadPool
    ) {
        let work = PointwiseConv<A>(input: input, pixels: pixels, inChannels: inChannels, weights: weights,
                                    outChannels: outChannels, residual: residual, output: output)
        threads.parallelChunks((pixels + 5) / 6, grain: 4, work)
    }
}

/// One thread's share of a pointwise conv: a range of 6-pixel tiles.
@usableFromInline
struct PointwiseConv<A: ActivationFunction>: ParallelWork {
    @usableFromInline let input: UnsafePointer<Float>
    @usableFromInline let pixels: Int
    @usableFromInline let inChannels: Int
    @usableFromInline let weights: UnsafePointer<Float>
    @usableFromInline let outChannels: Int
    @usableFromInline let residual: UnsafePointer<Float>?
    @usableFromInline let output: UnsafeMutablePointer<Float>

    @inlinable
    init(input: UnsafePointer<Float>, pixels: Int, inChannels: Int, weights: UnsafePointer<Float>,
         outChannels: Int, residual: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>) {
        self.input = input
        self.pixels = pixels
        self.inChannels = inChannels
        self.weights = weights
        self.outChannels = outChannels
        self.residual = residual
        self.output = output
    }

    @inlinable
    func run(_ tiles: Range<Int>) {
        let padded = roundUp(outChannels, 16)
        let bias = weights + inChannels * padded
        for tile in tiles {
            let p0 = tile * 6
            let rows = min(6, pixels - p0)
            var column = 0
            var panel = weights
            while column < padded {
                let width = padded - column >= 32 ? 32 : 16
                let a = input + p0 * inChannels
                let c = output + p0 * outChannels + column
                let r = residual.map { $0 + p0 * outChannels + column }
                let valid = outChannels - column
                if width == 32 {
                    if rows == 6 {
                        Kernels.tile6x32(a: a, k: inChannels, b: panel, bias: bias + column, c: c, ldc: outChannels,
                                         residual: r, validColumns: valid, A.self)
                    } else {
                        for row in 0..<rows {
                            Kernels.tile1x32(a: a + row * inChannels, k: inChannels, b: panel, bias: bias + column,
                                             c: c + row * outChannels, residual: r.map { $0 + row * outChannels },
                                             validColumns: valid, A.self)
                        }
                    }
                } else {
                    for row in 0..<rows {
                        Kernels.tile1x16(a: a + row * inChannels, k: inChannels, b: panel, bias: bias + column,
                                         c: c + row * outChannels, residual: r.map { $0 + row * outChannels },
                                         validColumns: valid, A.self)
                    }
                }
                panel += inChannels * width
                column += width
            }
        }
    }
}

extension Kernels {
    @inlinable @inline(__always)
    static func finish<A: ActivationFunction>(
        _ acc: Vec, bias: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>?, count: Int, _: A.Type
    ) {
        guard count > 0 else { return }
        var v = A.apply(acc + load(bias))
        if let residual { v += load(residual, count: count) }
        store(v, c, count: count)
    }

    @inlinable @inline(__always)
    static func tile6x32<A: ActivationFunction>(
        a: UnsafePointer<Float>, k: Int, b: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, residual: UnsafePointer<Float>?, validColumns: Int, _: A.Type
    ) {
        var c00 = Vec.zero, c01 = Vec.zero, c10 = Vec.zero, c11 = Vec.zero
        var c20 = Vec.zero, c21 = Vec.zero, c30 = Vec.zero, c31 = Vec.zero
        var c40 = Vec.zero, c41 = Vec.zero, c50 = Vec.zero, c51 = Vec.zero
        let a0 = a, a1 = a + k, a2 = a + 2 * k, a3 = a + 3 * k, a4 = a + 4 * k, a5 = a + 5 * k
        var w = b
        for i in 0..<k {
            let b0 = load(w), b1 = load(w + 16)
            w += 32
            var x = Vec(repeating: a0[i])
            c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
            x = Vec(repeating: a1[i])
            c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
            x = Vec(repeating: a2[i])
            c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
            x = Vec(repeating: a3[i])
            c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
            x = Vec(repeating: a4[i])
            c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
            x = Vec(repeating: a5[i])
            c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
        }
        let n0 = min(16, validColumns), n1 = min(16, validColumns - 16)
        finish(c00, bias: bias, c, residual: residual, count: n0, A.self)
        finish(c01, bias: bias + 16, c + 16, residual: residual.map { $0 + 16 }, count: n1, A.self)
        finish(c10, bias: bias, c + ldc, residual: residual.map { $0 + ldc }, count: n0, A.self)
        finish(c11, bias: bias + 16, c + ldc + 16, residual: residual.map { $0 + ldc + 16 }, count: n1, A.self)
        finish(c20, bias: bias, c + 2 * ldc, residual: residual.map { $0 + 2 * ldc }, count: n0, A.self)
        finish(c21, bias: bias + 16, c + 2 * ldc + 16, residual: residual.map { $0 + 2 * ldc + 16 }, count: n1, A.self)
        finish(c30, bias: bias, c + 3 * ldc, residual: residual.map { $0 + 3 * ldc }, count: n0, A.self)
        finish(c31, bias: bias + 16, c + 3 * ldc + 16, residual: residual.map { $0 + 3 * ldc + 16 }, count: n1, A.self)
        finish(c40, bias: bias, c + 4 * ldc, residual: residual.map { $0 + 4 * ldc }, count: n0, A.self)
        finish(c41, bias: bias + 16, c + 4 * ldc + 16, residual: residual.map { $0 + 4 * ldc + 16 }, count: n1, A.self)
        finish(c50, bias: bias, c + 5 * ldc, residual: residual.map { $0 + 5 * ldc }, count: n0, A.self)
        finish(c51, bias: bias + 16, c + 5 * ldc + 16, residual: residual.map { $0 + 5 * ldc + 16 }, count: n1, A.self)
    }

    @inlinable @inline(__always)
    static func tile1x32<A: ActivationFunction>(
        a: UnsafePointer<Float>, k: Int, b: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, validColumns: Int, _: A.Type
    ) {
        var c0 = Vec.zero, c1 = Vec.zero
        var w = b
        for i in 0..<k {
            let x = Vec(repeating: a[i])
            c0 = c0.addingProduct(x, load(w)); c1 = c1.addingProduct(x, load(w + 16))
            w += 32
        }
        finish(c0, bias: bias, c, residual: residual, count: min(16, validColumns), A.self)
        finish(c1, bias: bias + 16, c + 16, residual: residual.map { $0 + 16 }, count: min(16, validColumns - 16), A.self)
    }

    @inlinable @inline(__always)
    static func tile1x16<A: ActivationFunction>(
        a: UnsafePointer<Float>, k: Int, b: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, validColumns: Int, _: A.Type
    ) {
        var c0 = Vec.zero
        var w = b
        for i in 0..<k {
            c0 = c0.addingProduct(Vec(repeating: a[i]), load(w))
            w += 16
        }
        finish(c0, bias: bias, c, residual: residual, count: min(16, validColumns), A.self)
    }
}
