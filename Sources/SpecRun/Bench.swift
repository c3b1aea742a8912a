import Foundation
import SpecRuntime

/// `specrun bench`: times inference of one image (or of `--batch N` images, one after
/// another through the same arena) after a warm-up, and reports median and p90.
enum Bench {
    static func run(_ args: inout [String], networks: [any CompiledNetwork.Type]) throws -> String {
        let network = try SpecRun.find(try positional(&args, "network"), in: networks)
        let info = network.info
        let weights = try value(&args, "--weights")
        let threads = try integer(&args, "--threads", default: 1, range: 1...256)
        let iterations = try integer(&args, "--iterations", default: 100, range: 1...1_000_000)
        let warmup = try integer(&args, "--warmup", default: 10, range: 0...1_000_000)
        let json = flag(&args, "--json")
        let profile = flag(&args, "--profile")
        let batch = try integer(&args, "--batch", default: 1, range: 1...4096)
        if profile && batch > 1 { throw UsageError("--profile times one image; it cannot be combined with --batch") }

        let checkpoint: any Checkpoint = try weights.map { try SafeTensorsFile(path: $0) } ?? SyntheticCheckpoint(info)
        let model = try network.init(checkpoint: checkpoint, convention: nil, threads: threads)
        let image = SpecRun.syntheticImage(info)
        let images = [[Float]](repeating: image, count: batch).flatMap { $0 }
        var logits = [Float](repeating: 0, count: info.classes * batch)
        var samples: [Double] = []
        samples.reserveCapacity(iterations)
        images.withUnsafeBufferPointer { input in
            logits.withUnsafeMutableBufferPointer { output in
                for i in 0..<(warmup + iterations) {
                    let start = DispatchTime.now().uptimeNanoseconds
                    model.predict(images: input.baseAddress!, count: batch, logits: output.baseAddress!)
                    let end = DispatchTime.now().uptimeNanoseconds
                    if i >= warmup { samples.append(Double(end - start) / 1e6) }
                }
            }
        }
        samples.sort()
        let median = percentile(samples, 0.5), p90 = percentile(samples, 0.9)
        if profile {
            return try Profile.run(model, info: info, image: image, iterations: iterations, median: median, json: json)
        }
        let gflops = 2 * Double(info.macs) * Double(batch) / (median * 1e6)
        let imagesPerSecond = Double(batch) / (median / 1000)
        if json {
            return """
            {"network": "\(info.name)", "threads": \(threads), "batch": \(batch), "iterations": \(iterations), \
            "median_ms": \(rounded(median)), "p90_ms": \(rounded(p90)), "min_ms": \(rounded(samples[0])), \
            "images_per_second": \(rounded(imagesPerSecond)), "macs": \(info.macs), "gflops": \(rounded(gflops))}

            """
        }
        let what = batch == 1 ? "" : " per batch of \(batch) (\(Int(imagesPerSecond.rounded())) images/s)"
        return String(format: "%@: median %.3f ms%@, p90 %.3f ms, min %.3f ms over %d runs (%d thread%@, %.1f GFLOP/s)\n",
                      info.name, median, what, p90, samples[0], iterations, threads, threads == 1 ? "" : "s", gflops)
    }

    /// Nearest-rank percentile of sorted samples.
    static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        sorted[min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))]
    }

    static func rounded(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
}
