/// Depthwise k×k convolution over an NHWC tensor, vectorized across channels.
/// Weights packed [kh][kw][channels padded to 16], then the bias.
public enum DepthwisePacking {
    public static func floats(channels: Int, kernelHeight: Int, kernelWidth: Int) -> Int {
        roundUp(channels, 16) * (kernelHeight * kernelWidth + 1)
    }
}

extension Kernels {
    @inlinable
    public static func depthwiseConv<A: ActivationFunction>(
        input: UnsafePointer<Float>, channels: Int, inHeight: Int, inWidth: Int,
        weights: UnsafePointer<Float>, kernelHeight: Int, kernelWidth: Int,
        strideHeight: Int, strideWidth: Int, padTop: Int, padLeft: Int,
        output: UnsafeMutablePointer<Float>, outHeight: Int, outWidth: Int,
        activation: A.Type, threads: ThreadPool
    ) {
        let padded = roundUp(channels, 16)
        let bias = weights + kernelHeight * kernelWidth * padded
        // Output columns whose taps all fall inside the input need no bounds checks.
        let interiorStart = min(outWidth, (padLeft + strideWidth - 1) / strideWidth)
        let interiorEnd = max(interiorStart, min(outWidth, (inWidth - kernelWidth + padLeft) / strideWidth + 1))
        threads.parallelChunks(outHeight, grain: 1) { rows in
            for oh in rows {
                let ih0 = oh * strideHeight - padTop
                let khStart = max(0, -ih0), khEnd = min(kernelHeight, inHeight - ih0)
                var c = 0
                while c < channels {
                    let n = min(16, channels - c)
                    let b = load(bias + c)
                    let out = output + oh * outWidth * channels + c
                    for ow in 0..<outWidth {
                        let iw0 = ow * strideWidth - padLeft
                        var acc = b
                        if ow >= interiorStart && ow < interiorEnd {
                            for kh in khStart..<khEnd {
                                let x = input + ((ih0 + kh) * inWidth + iw0) * channels + c
                                let w = weights + kh * kernelWidth * padded + c
                                for kw in 0..<kernelWidth {
                                    acc = acc.addingProduct(load(x + kw * channels, count: n), load(w + kw * padded))
                                }
                            }
                        } else {
                            let kwStart = max(0, -iw0), kwEnd = min(kernelWidth, inWidth - iw0)
                            for kh in khStart..<khEnd {
                                let x = input + ((ih0 + kh) * inWidth + iw0) * channels + c
                                let w = weights + kh * kernelWidth * padded + c
                                for kw in kwStart..<kwEnd {
                                    acc = acc.addingProduct(load(x + kw * channels, count: n), load(w + kw * padded))
                                }
                            }
                        }
                        store(A.apply(acc), out + ow * channels, count: n)
                    }
                    c += 16
                }
            }
        }
    }
}
