import Foundation
import SpecRuntime
import Testing

/// A two-layer network's weights: a 3×3 stem conv with BatchNorm, and a classifier.
let tinyInfo = NetworkInfo(
    name: "tiny", specFile: "tiny.spec", input: (channels: 3, height: 4, width: 4), classes: 2,
    arenaBytes: 0, weightFloats: 16 * 28 + 16 * 4 + 16, params: 0, macs: 0,
    conventions: [Convention("timm", batchNormEps: 1e-5), Convention("torchvision", batchNormEps: 1e-3)],
    layers: [
        LayerWeights(.directConv, "stem.conv", out: 4, in: 3, kernel: (3, 3), weight: ["conv_stem", "features.0.0"],
                     norm: ["bn1", "features.0.1"], at: 0),
        LayerWeights(.dense, "head.linear", out: 2, in: 4, linear: true, weight: ["classifier", "classifier.1"],
                     bias: true, at: 16 * 28),
    ])

/// A complete timm-named checkpoint for `tinyInfo`, as PyTorch saves it.
func tinyCheckpoint(prefixes: (String, String, String) = ("conv_stem", "bn1", "classifier")) -> [String: TensorData] {
    var random = SplitMix64(seed: 7)
    func values(_ n: Int, _ low: Float = -1, _ high: Float = 1) -> [Float] { (0..<n).map { _ in random.uniform(low, high) } }
    let (conv, bn, fc) = prefixes
    return [
        "\(conv).weight": TensorData(shape: [4, 3, 3, 3], floats: values(108)),
        "\(bn).weight": TensorData(shape: [4], floats: values(4, 0.5, 1.5)),
        "\(bn).bias": TensorData(shape: [4], floats: values(4)),
        "\(bn).running_mean": TensorData(shape: [4], floats: values(4)),
        "\(bn).running_var": TensorData(shape: [4], floats: values(4, 0.5, 1.5)),
        "\(bn).num_batches_tracked": TensorData(dtype: .i64, shape: [], bytes: [UInt8](repeating: 0, count: 8)),
        "\(fc).weight": TensorData(shape: [2, 4], floats: values(8)),
        "\(fc).bias": TensorData(shape: [2], floats: values(2)),
    ]
}

func load(_ tensors: [String: TensorData], convention: String? = nil) throws -> (Convention, [Float]) {
    var packed = [Float](repeating: .nan, count: tinyInfo.weightFloats)
    let used = try WeightLoader.load(tinyInfo, from: MemoryCheckpoint(tensors), convention: convention, into: &packed)
    return (used, packed)
}

func loading(_ tensors: [String: TensorData], fails expected: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    do {
        _ = try load(tensors)
        Issue.record("loading succeeded; expected: \(expected)", sourceLocation: sourceLocation)
    } catch let error as CheckpointError {
        #expect(error.description == expected, sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error \(error)")
    }
}

@Suite struct WeightLoaderTests {
    @Test("BatchNorm folds into the conv with the convention's eps")
    func foldsBatchNorm() throws {
        let tensors = tinyCheckpoint()
        let (convention, packed) = try load(tensors)
        #expect(convention.name == "timm")
        let w = tensors["conv_stem.weight"]!.floats()!, gamma = tensors["bn1.weight"]!.floats()!
        let beta = tensors["bn1.bias"]!.floats()!, mean = tensors["bn1.running_mean"]!.floats()!
        let variance = tensors["bn1.running_var"]!.floats()!
        for o in 0..<4 {
            let scale = gamma[o] / (variance[o] + 1e-5).squareRoot()
            // Direct-conv packing: [kh][kw][in][out padded to 16], bias after.
            let packedWeight = packed[((1 * 3 + 2) * 3 + 1) * 16 + o]  // kh 1, kw 2, in 1
            #expect(abs(packedWeight - w[((o * 3 + 1) * 3 + 1) * 3 + 2] * scale) < 1e-6)
            #expect(abs(packed[27 * 16 + o] - (beta[o] - mean[o] * scale)) < 1e-6)
        }
    }

    @Test("the convention is recognized from the key names, and brings its eps")
    func detectsConvention() throws {
        let tensors = tinyCheckpoint(prefixes: ("features.0.0", "features.0.1", "classifier.1"))
        let (convention, _) = try load(tensors)
        #expect(convention == Convention("torchvision", batchNormEps: 1e-3))
    }

    @Test("a 1x1 conv weight [o, i, 1, 1] loads where a linear [o, i] is expected")
    func convShapedLinear() throws {
        var tensors = tinyCheckpoint()
        tensors["classifier.weight"]!.shape = [2, 4, 1, 1]
        _ = try load(tensors)
    }

    @Test("half-precision checkpoints widen exactly")
    func halfPrecision() throws {
        var tensors = tinyCheckpoint()
        // 1.0, -2.0, 0.5, 65504 (largest half), then 4 × 2^-24 (smallest subnormal)
        let halves: [UInt16] = [0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x0001, 0x0001, 0x0001]
        tensors["classifier.weight"] = TensorData(dtype: .f16, shape: [2, 4], bytes: halves.withUnsafeBytes { [UInt8]($0) })
        let bfloats: [UInt16] = [0x3F80, 0xC000]  // 1.0, -2.0
        tensors["classifier.bias"] = TensorData(dtype: .bf16, shape: [2], bytes: bfloats.withUnsafeBytes { [UInt8]($0) })
        #expect(tensors["classifier.weight"]!.floats()! == [1, -2, 0.5, 65504, 0x1p-24, 0x1p-24, 0x1p-24, 0x1p-24])
        #expect(tensors["classifier.bias"]!.floats()! == [1, -2])
        _ = try load(tensors)
    }

    @Test("a missing tensor is named")
    func missing() {
        var tensors = tinyCheckpoint()
        tensors["bn1.running_var"] = nil
        loading(tensors, fails: "memory.safetensors: tensor 'bn1.running_var': missing: the network needs this tensor of shape [4]")
    }

    @Test("a wrong shape is named with both shapes")
    func wrongShape() {
        var tensors = tinyCheckpoint()
        tensors["conv_stem.weight"] = TensorData(shape: [4, 3, 5, 5], floats: [Float](repeating: 0, count: 300))
        loading(tensors, fails: "memory.safetensors: tensor 'conv_stem.weight': expected shape [4, 3, 3, 3], found [4, 3, 5, 5]")
    }

    @Test("a wrong dtype is named")
    func wrongDType() {
        var tensors = tinyCheckpoint()
        tensors["classifier.bias"] = TensorData(dtype: .i64, shape: [2], bytes: [UInt8](repeating: 0, count: 16))
        loading(tensors, fails: "memory.safetensors: tensor 'classifier.bias': dtype I64 where a floating-point tensor is needed")
    }

    @Test("NaN or infinite values are rejected")
    func notFinite() {
        var tensors = tinyCheckpoint()
        tensors["classifier.bias"] = TensorData(shape: [2], floats: [1, .nan])
        loading(tensors, fails: "memory.safetensors: tensor 'classifier.bias': holds NaN or infinite values")
    }

    @Test("a tensor the network has no use for is rejected, as strict load_state_dict does")
    func unexpected() {
        var tensors = tinyCheckpoint()
        tensors["blocks.0.0.conv_dw.weight"] = TensorData(shape: [4, 1, 3, 3], floats: [Float](repeating: 0, count: 36))
        loading(tensors, fails: "memory.safetensors: tensor 'blocks.0.0.conv_dw.weight': unexpected tensor: tiny (timm names) has no such parameter; 1 tensor of this checkpoint would go unused")
    }

    @Test("a checkpoint of another network is rejected up front")
    func foreign() {
        loading(["fc.weight": TensorData(shape: [2, 4], floats: [Float](repeating: 0, count: 8))],
                fails: "memory.safetensors: no tensor 'conv_stem.weight' (timm) or 'features.0.0.weight' (torchvision): this is not a tiny checkpoint in a naming convention it knows")
    }

    @Test("an unknown requested convention is an error")
    func unknownConvention() {
        do {
            _ = try load(tinyCheckpoint(), convention: "keras")
            Issue.record("expected an error")
        } catch let error as CheckpointError {
            #expect(error.description == "memory.safetensors: tiny has no 'keras' convention (it accepts timm, torchvision)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("synthetic weights are deterministic and load under every convention", arguments: [0, 1])
    func synthetic(convention: Int) throws {
        let a = SyntheticCheckpoint(tinyInfo, convention: convention)
        let b = SyntheticCheckpoint(tinyInfo, convention: convention)
        #expect(try a.tensor(named: a.tensorNames[0])!.bytes == b.tensor(named: b.tensorNames[0])!.bytes)
        var packed = [Float](repeating: .nan, count: tinyInfo.weightFloats)
        let used = try WeightLoader.load(tinyInfo, from: a, into: &packed)
        #expect(used == tinyInfo.conventions[convention])
    }
}

@Suite struct SafeTensorsTests {
    func encoded() -> Data {
        SafeTensorsFile.encode(tinyCheckpoint().sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, metadata: ["format": "pt"])
    }

    @Test("what encode writes, the reader reads back")
    func roundTrip() throws {
        let file = try SafeTensorsFile(data: encoded(), source: "t.safetensors")
        #expect(file.tensorNames == tinyCheckpoint().keys.sorted())
        #expect(file.metadata == ["format": "pt"])
        #expect(try file.tensor(named: "conv_stem.weight")!.bytes == tinyCheckpoint()["conv_stem.weight"]!.bytes)
        #expect(try file.tensor(named: "nope") == nil)
    }

    @Test("a file on disk is read, and a missing file is an error naming it")
    func disk() throws {
        let path = temporaryPath("w.safetensors")
        try encoded().write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try SafeTensorsFile(path: path)
        #expect(file.tensorNames.count == 8)
        #expect(throws: CheckpointError.self) { try SafeTensorsFile(path: path + ".missing") }
    }

    @Test("truncated and corrupt files are errors, never crashes", arguments: [
        ("empty", "t.safetensors: not a safetensors file: 0 bytes is too short for a header"),
        ("header length past the end", "t.safetensors: corrupt header: it claims 1000000 bytes, the file holds 4 after the length"),
        ("header not JSON", "t.safetensors: corrupt header: not valid JSON"),
        ("header not an object", "t.safetensors: corrupt header: not a JSON object"),
        ("entry without offsets", "t.safetensors: tensor 'x': corrupt header entry: needs dtype, shape and data_offsets"),
        ("unknown dtype", "t.safetensors: tensor 'x': unsupported dtype F8_E4M3"),
        ("size does not match shape", "t.safetensors: tensor 'x': corrupt header entry: shape [3] of F32 does not match its 8 bytes"),
        ("negative dimension", "t.safetensors: tensor 'x': corrupt header entry: bad shape or data_offsets"),
    ])
    func corrupt(label: String, expected: String) {
        func file(_ header: String, data: [UInt8] = []) -> Data {
            var d = Data()
            withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { d.append(contentsOf: $0) }
            d.append(contentsOf: Array(header.utf8))
            d.append(contentsOf: data)
            return d
        }
        let data: Data
        switch label {
        case "empty": data = Data()
        case "header length past the end":
            var d = Data()
            withUnsafeBytes(of: UInt64(1_000_000).littleEndian) { d.append(contentsOf: $0) }
            d.append(contentsOf: [1, 2, 3, 4])
            data = d
        case "header not JSON": data = file("{\"x\": ")
        case "header not an object": data = file("[1, 2]")
        case "entry without offsets": data = file(#"{"x": {"dtype": "F32", "shape": [2]}}"#)
        case "unknown dtype": data = file(#"{"x": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 2]}}"#, data: [0, 0])
        case "size does not match shape": data = file(#"{"x": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, data: [UInt8](repeating: 0, count: 8))
        default: data = file(#"{"x": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}"#, data: [UInt8](repeating: 0, count: 8))
        }
        do {
            _ = try SafeTensorsFile(data: data, source: "t.safetensors")
            Issue.record("expected: \(expected)")
        } catch let error as CheckpointError {
            #expect(error.description == expected)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("a file cut short names the first tensor whose data is gone")
    func truncated() {
        let data = encoded()
        do {
            _ = try SafeTensorsFile(data: data.prefix(data.count - 10), source: "t.safetensors")
            Issue.record("expected an error")
        } catch let error as CheckpointError {
            #expect(error.tensor != nil)
            #expect(error.message.hasPrefix("file is truncated"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}

@Suite struct NPYTests {
    @Test("what encode writes, decode reads back")
    func roundTrip() throws {
        let array = NPY.Array(shape: [2, 3], values: [1, 2, 3, 4, 5, 6.5])
        let data = NPY.encode(array)
        #expect(data.count % 64 == 24)  // 64-byte header, then 24 bytes of data
        let back = try NPY.decode(data, source: "a.npy")
        #expect(back.shape == [2, 3])
        #expect(back.values == array.values)
    }

    @Test("float64 arrays are read as float32")
    func float64() throws {
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        var header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"
        while (10 + header.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        data.append(contentsOf: [UInt8(header.count), 0])
        data.append(contentsOf: Array(header.utf8))
        [1.5, -2.25].withUnsafeBytes { data.append(contentsOf: $0) }
        let array = try NPY.decode(data, source: "d.npy")
        #expect(array.values == [1.5, -2.25])
    }

    @Test("bad .npy files are errors naming the file", arguments: [
        ("not npy", "x.npy: not a .npy file (no \\x93NUMPY magic)"),
        ("'<i8'", "x.npy: unsupported dtype '<i8': expected little-endian float32 ('<f4') or float64 ('<f8')"),
        ("fortran", "x.npy: Fortran-ordered arrays are not supported; save a C-ordered array (np.ascontiguousarray)"),
        ("truncated", "x.npy: file is truncated: shape [2, 3] needs 24 bytes of data, found 8"),
    ])
    func bad(label: String, expected: String) {
        var data = NPY.encode(NPY.Array(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]))
        switch label {
        case "not npy": data = Data("hello world, not numpy".utf8)
        case "'<i8'": data = data.replacing("<f4", with: "<i8")
        case "fortran": data = data.replacing("False", with: "True ")
        default: data = data.prefix(data.count - 16)
        }
        do {
            _ = try NPY.decode(data, source: "x.npy")
            Issue.record("expected: \(expected)")
        } catch let error as CheckpointError {
            #expect(error.description == expected)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}

extension Data {
    /// The first occurrence of `target` (as bytes) replaced by `replacement` of the same length.
    func replacing(_ target: String, with replacement: String) -> Data {
        let t = [UInt8](target.utf8), r = [UInt8](replacement.utf8)
        var bytes = [UInt8](self)
        for i in 0...(bytes.count - t.count) where Array(bytes[i..<(i + t.count)]) == t {
            bytes.replaceSubrange(i..<(i + t.count), with: r)
            break
        }
        return Data(bytes)
    }
}
