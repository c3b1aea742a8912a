import Foundation
import SpecRuntime

/// The `specrun` command line as a function: runs, benchmarks and lists compiled networks.
public enum SpecRun {
    public static let usage = """
    usage: specrun <command> [options]

    commands:
      list                      the compiled networks, with input shape, params, MACs, memory
      run <network> [--weights W.safetensors] [--input X.npy] [--output Y.npy]
                    [--convention NAME] [--threads N]
                                classify images: X is float32 [N, 3, H, W] (NCHW), Y gets
                                float32 logits [N, classes]; without --input a fixed synthetic
                                image, without --weights deterministic synthetic weights
      bench <network> [--weights W] [--threads N] [--batch N] [--iterations K] [--warmup K] [--json] [--profile]
                                median and p90 milliseconds per batch-1 inference; --profile
                                adds time, MACs and GFLOP/s per fused layer
      export-weights <network> --output W.safetensors [--convention NAME] [--seed S]
                                write the synthetic weights as a checkpoint, e.g. for peers
    """

    public struct Output {
        public var stdout = ""
        public var stderr = ""
        public var exitCode: Int32 = 0
    }

    public static func run(_ arguments: [String], networks: [any CompiledNetwork.Type]) -> Output {
        var output = Output()
        guard let command = arguments.first else {
            output.stderr = usage + "\n"
            output.exitCode = 2
            return output
        }
        var args = Array(arguments.dropFirst())
        do {
            switch command {
            case "list": output.stdout += list(networks)
            case "run": output.stdout += try runCommand(&args, networks: networks, log: &output.stderr)
            case "bench": output.stdout += try Bench.run(&args, networks: networks)
            case "export-weights": output.stdout += try exportWeights(&args, networks: networks)
            case "help", "--help", "-h": output.stdout += usage + "\n"
            default: throw UsageError("unknown command '\(command)'\n\n" + usage)
            }
            if let extra = args.first { throw UsageError("unexpected argument '\(extra)'") }
        } catch let error as UsageError {
            output.stderr += "specrun \(command): \(error.message)\n"
            output.exitCode = 2
        } catch {
            output.stderr += "specrun \(command): \(error)\n"
            output.exitCode = 1
        }
        return output
    }

    static func list(_ networks: [any CompiledNetwork.Type]) -> String {
        var rows = [["network", "input", "classes", "params", "MACs", "arena", "weights", "spec"]]
        for network in networks {
            let info = network.info
            rows.append([info.name, "\(info.inputChannels)x\(info.inputHeight)x\(info.inputWidth)", "\(info.classes)",
                         grouped(info.params), grouped(info.macs), megabytes(info.arenaBytes), megabytes(info.weightBytes), info.specFile])
        }
        return table(rows)
    }

    static func runCommand(_ args: inout [String], networks: [any CompiledNetwork.Type], log: inout String) throws -> String {
        let network = try find(try positional(&args, "network"), in: networks)
        let info = network.info
        let weights = try value(&args, "--weights")
        let inputPath = try value(&args, "--input")
        let outputPath = try value(&args, "--output")
        let convention = try value(&args, "--convention")
        let threads = try integer(&args, "--threads", default: 1, range: 1...256)

        let checkpoint: any Checkpoint = try weights.map { try SafeTensorsFile(path: $0) } ?? SyntheticCheckpoint(info)
        if weights == nil { log += "no --weights: using deterministic synthetic weights\n" }
        let model = try network.init(checkpoint: checkpoint, convention: convention, threads: threads)

        let images: [Float]
        let count: Int
        if let inputPath {
            let array = try NPY.read(path: inputPath)
            let expected = [info.inputChannels, info.inputHeight, info.inputWidth]
            if array.shape.count == 4, Array(array.shape.dropFirst()) == expected {
                count = array.shape[0]
            } else if array.shape == expected {
                count = 1
            } else {
                throw CheckpointError(file: inputPath, "shape \(array.shape); \(info.name) takes float32 [N, \(expected.map(String.init).joined(separator: ", "))] (NCHW)")
            }
            images = array.values
        } else {
            log += "no --input: using a fixed synthetic image\n"
            images = syntheticImage(info)
            count = 1
        }
        let logits = images.isEmpty ? [] : model.predict(images: images)
        if let outputPath {
            try NPY.write(NPY.Array(shape: [count, info.classes], values: logits), to: outputPath)
            return "\(info.name): \(count) image\(count == 1 ? "" : "s") -> \(outputPath) [\(count), \(info.classes)] (weights: \(model.state.convention.name) convention)\n"
        }
        var text = ""
        for n in 0..<count {
            let scores = logits[(n * info.classes)..<((n + 1) * info.classes)]
            let top = scores.indices.sorted { scores[$0] > scores[$1] }.prefix(5)
            text += "image \(n): top-5 classes " + top.map { "\($0 - n * info.classes) (\(String(format: "%.3f", scores[$0])))" }.joined(separator: ", ") + "\n"
        }
        return text
    }

    static func exportWeights(_ args: inout [String], networks: [any CompiledNetwork.Type]) throws -> String {
        let network = try find(try positional(&args, "network"), in: networks)
        let info = network.info
        guard let path = try value(&args, "--output") else { throw UsageError("missing --output <file.safetensors>") }
        let conventionName = try value(&args, "--convention") ?? info.conventions[0].name
        guard let convention = info.conventions.firstIndex(where: { $0.name == conventionName }) else {
            throw UsageError("\(info.name) has no '\(conventionName)' convention (\(info.conventions.map(\.name).joined(separator: ", ")))")
        }
        let seed = UInt64(try integer(&args, "--seed", default: 0x5EC_CC, range: 0...Int.max))
        let synthetic = SyntheticCheckpoint(info, convention: convention, seed: seed)
        var tensors: [(name: String, tensor: TensorData)] = []
        for name in synthetic.tensorNames { tensors.append((name, try synthetic.tensor(named: name)!)) }
        do {
            try SafeTensorsFile.encode(tensors).write(to: URL(fileURLWithPath: path))
        } catch {
            throw CheckpointError(file: path, "cannot write the file: \(error.localizedDescription)")
        }
        return "\(info.name): \(tensors.count) tensors (\(conventionName) names, seed \(seed)) -> \(path)\n"
    }

    /// A smooth, fixed test pattern in roughly the range of a normalized image.
    public static func syntheticImage(_ info: NetworkInfo) -> [Float] {
        var image = [Float](repeating: 0, count: info.inputElements)
        for c in 0..<info.inputChannels {
            for y in 0..<info.inputHeight {
                for x in 0..<info.inputWidth {
                    let u = Float(x) / Float(info.inputWidth), v = Float(y) / Float(info.inputHeight)
                    image[(c * info.inputHeight + y) * info.inputWidth + x] = sin(6 * u + Float(c)) * cos(4 * v - Float(c))
                }
            }
        }
        return image
    }

    static func find(_ name: String, in networks: [any CompiledNetwork.Type]) throws -> any CompiledNetwork.Type {
        for network in networks where network.info.name == name { return network }
        let names = networks.map { network in network.info.name }
        throw UsageError("no network '\(name)'; compiled networks: \(names.joined(separator: ", "))")
    }
}

struct UsageError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

func positional(_ args: inout [String], _ what: String) throws -> String {
    guard let i = args.firstIndex(where: { !$0.hasPrefix("--") }) else { throw UsageError("missing \(what)") }
    return args.remove(at: i)
}

func flag(_ args: inout [String], _ name: String) -> Bool {
    guard let i = args.firstIndex(of: name) else { return false }
    args.remove(at: i)
    return true
}

func value(_ args: inout [String], _ name: String) throws -> String? {
    guard let i = args.firstIndex(of: name) else { return nil }
    guard i + 1 < args.count else { throw UsageError("\(name) needs a value") }
    let value = args[i + 1]
    args.removeSubrange(i...(i + 1))
    return value
}

func integer(_ args: inout [String], _ name: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
    guard let text = try value(&args, name) else { return fallback }
    guard let n = Int(text), range.contains(n) else {
        throw UsageError("\(name) takes a whole number in \(range.lowerBound)...\(range.upperBound), not '\(text)'")
    }
    return n
}

func grouped(_ n: Int) -> String {
    let digits = String(n)
    var out = ""
    for (i, ch) in digits.enumerated() {
        if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return out
}

func megabytes(_ bytes: Int) -> String { String(format: "%.2f MB", Double(bytes) / 1_000_000) }

func table(_ rows: [[String]]) -> String {
    let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max()! }
    return rows.map { row in
        row.enumerated().map { c, cell in cell + String(repeating: " ", count: widths[c] - cell.count) }
            .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }.joined(separator: "\n") + "\n"
}
