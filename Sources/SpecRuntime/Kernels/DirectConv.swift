/// Dense k×k convolution for few input channels (the stem): each output pixel's
/// channels are accumulated as vectors from broadcast input values.
/// Weights packed [kh][kw][in][out padded to 16], then the bias.
public enum DirectConvPacking {
    public static func floats(inChannels: Int, outChannels: Int, kernelHeight: Int, kernelWidth: Int) -> Int {
        roundUp(outChannels, 16) * (kernelHeight * kernelWidth * inChannels + 1)
    }
}

extension Kernels {
    @inlinable
    public static func directConv<A: ActivationFunction>(
        input: UnsafePointer<Float>, inChannels: Int, inHeight: Int, inWidth: Int,
        weights: UnsafePointer<Float>, outChannels: Int, kernelHeight: Int, kernelWidth: Int,
        strideHeight: Int, strideWidth: Int, padTop: Int, padLeft: Int,
        output: UnsafeMutablePointer<Float>, outHeight: Int, outWidth: Int,
        activation: A.Type, threads: ThreadPool
    ) {
        let padded = roundUp(outChannels, 16)
        let bias = weights + kernelHeight * kernelWidth * inChannels * padded
        threads.parallelChunks(outHeight, grain: 1) { rows in
            for oh in rows {
                let ih0 = oh * strideHeight - padTop
                let khStart = max(0, -ih0), khEnd = min(kernelHeight, inHeight - ih0)
                for ow in 0..<outWidth {
                    let iw0 = ow * strideWidth - padLeft
                    let kwStart = max(0, -iw0), kwEnd = min(kernelWidth, inWidth - iw0)
                    let out = output + (oh * outWidth + ow) * outChannels
                    var o = 0
                    while o < padded {
                        var acc = load(bias + o)
                        for kh in khStart..<khEnd {
                            for kw in kwStart..<kwEnd {
                                let x = input + ((ih0 + kh) * inWidth + iw0 + kw) * inChannels
                                let w = weights + ((kh * kernelWidth + kw) * inChannels) * padded + o
                                for ci in 0..<inChannels {
                                    acc = acc.addingProduct(Vec(repeating: x[ci]), load(w + ci * padded))
                                }
                            }
                        }
                        store(A.apply(acc), out + o, count: outChannels - o)
                        o += 16
                    }
                }
            }
        }
    }
}
