import Foundation
import SpecRuntime

/// `specrun bench --profile`: time per fused layer (median over runs), its MACs, GFLOP/s and
/// share of the total, so the next optimization is chosen from data.
enum Profile {
    static func run(_ model: any CompiledNetwork, info: NetworkInfo, image: [Float], iterations: Int,
                    median: Double, json: Bool) throws -> String {
        let kernels = info.kernels
        var logits = [Float](repeating: 0, count: info.classes)
        var timeline = [UInt64](repeating: 0, count: kernels.count)
        var samples = [[Double]](repeating: [], count: kernels.count)
        image.withUnsafeBufferPointer { input in
            logits.withUnsafeMutableBufferPointer { output in
                timeline.withUnsafeMutableBufferPointer { marks in
                    for _ in 0..<iterations {
                        let start = Profiling.now()
                        model.run(image: input.baseAddress!, logits: output.baseAddress!, timeline: marks.baseAddress!)
                        var previous = start
                        for k in 0..<kernels.count {
                            samples[k].append(Double(marks[k] &- previous) / 1e6)
                            previous = marks[k]
                        }
                    }
                }
            }
        }
        let times = samples.map { Bench.percentile($0.sorted(), 0.5) }
        let total = times.reduce(0, +)
        if json {
            let rows = zip(kernels, times).map { kernel, ms in
                "{\"layer\": \"\(kernel.layer)\", \"op\": \"\(kernel.op)\", \"ms\": \(Bench.rounded(ms)), \"macs\": \(kernel.macs)}"
            }
            return "{\"network\": \"\(info.name)\", \"median_ms\": \(Bench.rounded(median)), \"layers\": [\n  " + rows.joined(separator: ",\n  ") + "\n]}\n"
        }
        var rows = [["layer", "op", "ms", "MACs", "GFLOP/s", "share"]]
        for (kernel, ms) in zip(kernels, times) {
            let gflops = kernel.macs > 0 ? String(format: "%.1f", 2 * Double(kernel.macs) / (ms * 1e6)) : ""
            rows.append([kernel.layer, kernel.op, String(format: "%.3f", ms), grouped(kernel.macs), gflops,
                         String(format: "%.1f%%", 100 * ms / total)])
        }
        rows.append(["total", "", String(format: "%.3f", total), grouped(info.macs),
                     String(format: "%.1f", 2 * Double(info.macs) / (total * 1e6)), ""])
        return "\(info.name): median \(String(format: "%.3f", median)) ms per inference; per layer (median of \(iterations) runs):\n" + table(rows)
    }
}
