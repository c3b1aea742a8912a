// Times single runtime kernels outside the network, where the VM's drift and the layers
// around them do not blur the figure:
//
//   .build/release/kernelbench pool                 one parallel loop of trivial work, 2 threads
//   .build/release/kernelbench depthwise 240 256    5×5 stride-1 depthwise over 14×14, in place and not
//   .build/release/kernelbench expand-depthwise     V3-Large's banded blocks 1, 2 and 4 on 1 and 2 threads
//   .build/release/kernelbench pointwise P K N      a 1×1 conv of P pixels, K→N channels, one thread
//   .build/release/kernelbench squeeze-excite       V3-Large's SE shapes, whole and by part, one thread
//   .build/release/kernelbench dense IN OUT         a fully connected layer, weights warm in cache and cold
//
// Each prints the minimum and median over its runs. Weights and inputs are constants: the
// kernels' speed does not depend on the values.
import Foundation
import SpecRuntime

func nanoseconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start)
}

func summary(_ samples: [Double]) -> (min: Double, median: Double) {
    let sorted = samples.sorted()
    return (sorted[0], sorted[sorted.count / 2])
}

func buffer(_ count: Int, _ value: Float) -> UnsafeMutablePointer<Float> {
    let pointer = UnsafeMutablePointer<Float>.allocate(capacity: count)
    pointer.initialize(repeating: value, count: count)
    return pointer
}

struct Increment: ParallelWork {
    let counters: UnsafeMutablePointer<Int>
    func run(_ range: Range<Int>) { for i in range { counters[i * 16] &+= 1 } }
}

/// The fixed cost of one `parallelChunks` call: two tasks that each bump a counter.
func pool() {
    let threads = ThreadPool(threads: 2)
    let counters = UnsafeMutablePointer<Int>.allocate(capacity: 64)
    counters.initialize(repeating: 0, count: 64)
    for round in 0..<5 {
        let jobs = 100_000
        let total = nanoseconds { for _ in 0..<jobs { threads.parallelChunks(2, grain: 1, Increment(counters: counters)) } }
        print("round \(round): \(String(format: "%.0f", total / Double(jobs))) ns per parallel loop")
    }
}

/// A 5×5 stride-1 depthwise conv over 14×14 (PP-LCNet's blocks 6–10 at 256 channels), one
/// thread, in place (as the network runs it) and into a separate output.
func depthwise(channels: [Int]) {
    let threads = ThreadPool(threads: 1)
    let size = 14, kernel = 5, pad = 2
    for c in channels {
        let elements = size * size * c
        let image = buffer(elements, 0.5), tensor = buffer(elements, 0.5), output = buffer(elements, 0)
        let weights = buffer(DepthwisePacking.floats(channels: c, kernelHeight: kernel, kernelWidth: kernel), 0.01)
        let scratch = buffer((kernel + 1) * size * c, 0)
        let flops = Double(2 * elements * kernel * kernel)
        for inPlace in [true, false] {
            let samples = (0..<2000).map { _ in
                // In place, each run would convolve the last one's output, decaying towards
                // subnormals: start every run from the same input, outside the timing.
                tensor.update(from: image, count: elements)
                return nanoseconds {
                    if inPlace {
                        Kernels.depthwiseConvInPlace(tensor, channels: c, inHeight: size, inWidth: size, weights: weights,
                                                     kernelHeight: kernel, kernelWidth: kernel, strideHeight: 1, strideWidth: 1,
                                                     padTop: pad, padLeft: pad, outHeight: size, outWidth: size, scratch: scratch,
                                                     activation: HardSwish.self, threads: threads)
                    } else {
                        Kernels.depthwiseConv(input: tensor, channels: c, inHeight: size, inWidth: size, weights: weights,
                                              kernelHeight: kernel, kernelWidth: kernel, strideHeight: 1, strideWidth: 1,
                                              padTop: pad, padLeft: pad, output: output, outHeight: size, outWidth: size,
                                              activation: HardSwish.self, threads: threads)
                    }
                }
            }
            let (fastest, median) = summary(samples)
            print("\(c) channels, \(inPlace ? "in place" : "separate output"): min \(String(format: "%.1f", fastest / 1e3)) us "
                  + "(\(String(format: "%.1f", flops / fastest)) GFLOP/s), median \(String(format: "%.1f", flops / median)) GFLOP/s")
        }
    }
}

/// Banded expansion + depthwise conv on one thread and on two, alternated.
func expandDepthwise() {
    let blocks = [("LCNet block1 16->32 112x112 3x3 s2", 16, 32, 112, 3, 2), ("V2 block1 16->96 112x112 3x3 s2", 16, 96, 112, 3, 2),
                  ("V3-L block1 16->64 112x112 3x3 s2", 16, 64, 112, 3, 2), ("block2 24->72 56x56 3x3 s1", 24, 72, 56, 3, 1),
                  ("block4 40->120 28x28 5x5 s1", 40, 120, 28, 5, 1)]
    let pools = [1: ThreadPool(threads: 1), 2: ThreadPool(threads: 2)]
    for (name, cin, c, size, kernel, stride) in blocks {
        let pad = kernel / 2, out = (size + 2 * pad - kernel) / stride + 1
        let input = buffer(size * size * cin, 0.5), output = buffer(out * out * c, 0)
        let expandFloats = PointwisePacking.floats(inChannels: cin, outChannels: c)
        let weights = buffer(expandFloats + DepthwisePacking.floats(channels: c, kernelHeight: kernel, kernelWidth: kernel), 0.01)
        let scratch = buffer(2 * ((2 * kernel - stride) * size + 5) * c, 0)
        var samples: [Int: [Double]] = [1: [], 2: []]
        for _ in 0..<200 {
            for threads in [1, 2] {
                samples[threads]!.append(nanoseconds {
                    Kernels.expandDepthwise(input: input, inChannels: cin, inHeight: size, inWidth: size, expandWeights: weights,
                                            expanded: c, expandActivation: ReLU.self, depthwiseWeights: weights + expandFloats,
                                            kernel: kernel, stride: stride, pad: pad, output: output, outHeight: out, outWidth: out,
                                            depthwiseActivation: ReLU.self, scratch: scratch, bands: 2, threads: pools[threads]!)
                })
            }
        }
        let one = summary(samples[1]!), two = summary(samples[2]!)
        print("\(name): 1 thread min \(String(format: "%.0f", one.min / 1e3)) us, 2 threads min \(String(format: "%.0f", two.min / 1e3)) us; "
              + "speedup \(String(format: "%.2f", one.min / two.min)) (minimums), \(String(format: "%.2f", one.median / two.median)) (medians)")
    }
}

/// A 1×1 conv, one thread: P pixels, K → N channels. Run over one input (warm in cache when
/// it fits) and over 8 rotating copies of input and output (from L3 or memory, as in the
/// network, where the layer before wrote more than L2 holds).
func pointwise(pixels: Int, inChannels: Int, outChannels: Int) {
    let threads = ThreadPool(threads: 1)
    let copies = 8
    let inputs = (0..<copies).map { _ in buffer(pixels * inChannels, 0.5) }
    let outputs = (0..<copies).map { _ in buffer(pixels * outChannels, 0) }
    let weights = buffer(PointwisePacking.floats(inChannels: inChannels, outChannels: outChannels), 0.01)
    let flops = Double(2 * pixels * inChannels * outChannels)
    var samples: [String: [Double]] = ["warm": [], "rotating": []]
    for run in 0..<400 {
        for mode in ["warm", "rotating"] {
            let copy = mode == "warm" ? 0 : run % copies
            samples[mode]!.append(nanoseconds {
                Kernels.pointwiseConv(input: inputs[copy], pixels: pixels, inChannels: inChannels, weights: weights,
                                      outChannels: outChannels, residual: nil, output: outputs[copy],
                                      activation: Identity.self, threads: threads)
            })
        }
    }
    for mode in ["warm", "rotating"] {
        let s = summary(samples[mode]!)
        print("pointwise \(pixels) px \(inChannels)->\(outChannels) \(mode): min \(String(format: "%.0f", s.min / 1e3)) us "
              + "(\(String(format: "%.1f", flops / s.min)) GFLOP/s), median \(String(format: "%.0f", s.median / 1e3)) us "
              + "(\(String(format: "%.1f", flops / s.median)) GFLOP/s)")
    }
}

/// The squeeze-excite op at V3-Large's shapes, one thread: the whole op, then its pool, its two
/// dense layers and its channel scale alone.
func squeezeExcite() {
    let threads = ThreadPool(threads: 1)
    for (pixels, channels, squeeze) in [(784, 120, 32), (196, 480, 120), (196, 672, 168), (49, 960, 240)] {
        let tensor = buffer(pixels * channels, 0.5), scratch = buffer(2 * channels, 0)
        let reduceFloats = DensePacking.floats(inFeatures: channels, outFeatures: squeeze)
        let reduce = buffer(reduceFloats, 0.01), expand = buffer(DensePacking.floats(inFeatures: squeeze, outFeatures: channels), 0.01)
        let gate = buffer(channels, 1)
        let parts: [(String, () -> Void)] = [
            ("whole", { Kernels.squeezeExcite(tensor, pixels: pixels, channels: channels, squeeze: squeeze, reduce: reduce, expand: expand,
                                              scratch: scratch, inner: ReLU.self, gate: HardSigmoid.self, threads: threads) }),
            ("pool", { Kernels.globalAveragePool(input: tensor, pixels: pixels, channels: channels, output: scratch) }),
            ("reduce", { Kernels.dense(input: scratch, inFeatures: channels, weights: reduce, outFeatures: squeeze,
                                       output: scratch + channels, activation: ReLU.self, threads: threads) }),
            ("expand", { Kernels.dense(input: scratch + channels, inFeatures: squeeze, weights: expand, outFeatures: channels,
                                       output: scratch, activation: HardSigmoid.self, threads: threads) }),
            ("scale", { Kernels.scaleChannels(tensor, pixels: pixels, channels: channels, gate: gate, threads: threads) }),
        ]
        var line = "\(pixels) px \(channels)->\(squeeze):"
        for (name, body) in parts {
            let s = summary((0..<2000).map { _ in nanoseconds(body) })
            line += " \(name) \(String(format: "%.1f", s.min / 1e3))/\(String(format: "%.1f", s.median / 1e3))"
        }
        print(line + " us (min/median)")
    }
}

/// A fully connected layer, one thread: repeated on the same weights (warm in L2 or L3 when
/// they fit), and after streaming 64 MB through the caches (cold, from memory, as in the
/// network when the layers before evicted them).
func dense(inFeatures: Int, outFeatures: Int) {
    let threads = ThreadPool(threads: 1)
    let input = buffer(inFeatures, 0.5), output = buffer(outFeatures, 0)
    let weights = buffer(DensePacking.floats(inFeatures: inFeatures, outFeatures: outFeatures), 0.01)
    let flushFloats = 16 << 20
    let flush = buffer(flushFloats, 1)
    let megabytes = Double(inFeatures * outFeatures * 4) / 1e6
    var samples: [String: [Double]] = ["warm": [], "cold": []]
    for _ in 0..<200 {
        for mode in ["warm", "cold"] {
            if mode == "cold" {
                var sum: Float = 0
                for i in Swift.stride(from: 0, to: flushFloats, by: 16) { sum += flush[i]; flush[i] = sum }
            }
            samples[mode]!.append(nanoseconds {
                Kernels.dense(input: input, inFeatures: inFeatures, weights: weights, outFeatures: outFeatures, output: output,
                              activation: Identity.self, threads: threads)
            })
        }
    }
    for mode in ["warm", "cold"] {
        let s = summary(samples[mode]!)
        print("dense \(inFeatures)->\(outFeatures) (\(String(format: "%.1f", megabytes)) MB) \(mode): min \(String(format: "%.0f", s.min / 1e3)) us, "
              + "median \(String(format: "%.0f", s.median / 1e3)) us (\(String(format: "%.1f", megabytes * 1e6 / s.median)) GB/s)")
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "pool": pool()
case "depthwise":
    let channels = arguments.dropFirst().compactMap { Int($0) }
    depthwise(channels: channels.isEmpty ? [240, 256, 272] : channels)
case "expand-depthwise": expandDepthwise()
case "squeeze-excite": squeezeExcite()
case "dense" where arguments.count == 3:
    let shape = arguments.dropFirst().compactMap { Int($0) }
    guard shape.count == 2, shape.allSatisfy({ $0 > 0 }) else {
        print("dense: IN OUT must be positive integers")
        exit(2)
    }
    dense(inFeatures: shape[0], outFeatures: shape[1])
case "pointwise" where arguments.count == 4:
    let shape = arguments.dropFirst().compactMap { Int($0) }
    guard shape.count == 3, shape.allSatisfy({ $0 > 0 }) else {
        print("pointwise: P K N must be positive integers")
        exit(2)
    }
    pointwise(pixels: shape[0], inChannels: shape[1], outChannels: shape[2])
default:
    print("usage: kernelbench pool | depthwise [channels...] | expand-depthwise | pointwise P K N | squeeze-excite | dense IN OUT")
    exit(2)
}
