import Foundation
import ParityNetworks
import SpecNetworks
import SpecRun
import SpecRuntime
import Testing

/// `specrun` as a function, on the networks compiled from Specs/.
@Suite struct SpecRunTests {
    func specrun(_ arguments: [String]) -> SpecRun.Output {
        SpecRun.run(arguments, networks: SpecNetworks.CompiledNetworks.all)
    }

    func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("specrun-\(UUID().uuidString)-\(name)").path
    }

    @Test("list shows every network compiled from Specs/")
    func list() {
        let out = specrun(["list"])
        #expect(out.exitCode == 0)
        let rows = out.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        let arena = String(format: "%.2f", Double(MobilenetV3Large.arenaBytes) / 1_000_000)
        #expect(rows.contains(["mobilenet_v3_large", "3x224x224", "1000", "5,483,032", "216,589,760", arena, "MB", "22.02", "MB", "mobilenet_v3_large.spec"]))
        #expect(rows.count == 1 + SpecNetworks.CompiledNetworks.all.count)
    }

    @Test("run reads NCHW images from .npy and writes [N, classes] logits")
    func runWithFiles() throws {
        let info = MobilenetV3Small.info
        let input = temporary("x.npy"), output = temporary("y.npy")
        defer { [input, output].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        var random = SplitMix64(seed: 3)
        let images = (0..<(2 * info.inputElements)).map { _ in random.uniform(-2, 2) }
        try NPY.write(NPY.Array(shape: [2, 3, 224, 224], values: images), to: input)

        let out = specrun(["run", "mobilenet_v3_small", "--input", input, "--output", output])

        #expect(out.exitCode == 0, "\(out.stderr)")
        let logits = try NPY.read(path: output)
        #expect(logits.shape == [2, 1000])
        let model = try MobilenetV3Small(checkpoint: SyntheticCheckpoint(info))
        let same = logits.values == model.predict(images: images)
        #expect(same)
        #expect(logits.values[0..<1000] != logits.values[1000..<2000])
    }

    @Test("run rejects an input of the wrong shape, naming the file and both shapes")
    func wrongInputShape() throws {
        let input = temporary("x.npy")
        defer { try? FileManager.default.removeItem(atPath: input) }
        try NPY.write(NPY.Array(shape: [1, 3, 200, 200], values: [Float](repeating: 0, count: 120_000)), to: input)
        let out = specrun(["run", "mobilenet_v3_small", "--input", input])
        #expect(out.exitCode == 1)
        #expect(out.stderr.hasSuffix("specrun run: \(input): shape [1, 3, 200, 200]; mobilenet_v3_small takes float32 [N, 3, 224, 224] (NCHW)\n"))
    }

    @Test("run without files uses synthetic weights and image and prints the top-5")
    func runDefaults() {
        let out = specrun(["run", "mobilenet_v3_small"])
        #expect(out.exitCode == 0)
        #expect(out.stdout.hasPrefix("image 0: top-5 classes "))
    }

    @Test("unknown networks and bad options are usage errors", arguments: [
        ["run", "resnet50"], ["bench", "mobilenet_v3_small", "--threads", "0"], ["run"], ["bench", "mobilenet_v3_small", "--bogus"],
        ["bench", "mobilenet_v3_small", "--batch", "0"], ["bench", "mobilenet_v3_small", "--batch", "2", "--profile"],
    ])
    func usageErrors(arguments: [String]) {
        let out = specrun(arguments)
        #expect(out.exitCode == 2)
        #expect(!out.stderr.isEmpty)
    }

    @Test("a missing weights file is an error naming it")
    func missingWeights() {
        let out = specrun(["run", "mobilenet_v3_small", "--weights", "/nonexistent/w.safetensors"])
        #expect(out.exitCode == 1)
        #expect(out.stderr.hasPrefix("specrun run: /nonexistent/w.safetensors: cannot read the file"))
    }

    @Test("bench --json reports median_ms and p90_ms")
    func benchJSON() throws {
        let out = specrun(["bench", "mobilenet_v3_small", "--iterations", "3", "--warmup", "1", "--json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        let median = try #require(json["median_ms"] as? Double), p90 = try #require(json["p90_ms"] as? Double)
        #expect(median > 0 && p90 >= median)
    }

    @Test("bench --batch times the whole batch and reports images per second")
    func benchBatch() throws {
        let out = specrun(["bench", "mobilenet_v3_small", "--batch", "3", "--iterations", "2", "--warmup", "0", "--json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        let median = try #require(json["median_ms"] as? Double), rate = try #require(json["images_per_second"] as? Double)
        #expect(json["batch"] as? Int == 3)
        #expect(abs(rate - 3 / (median / 1000)) <= 0.01 * rate)
    }

    @Test("exported synthetic weights load back as a checkpoint and give the same logits", arguments: ["timm", "torchvision"])
    func exportWeights(convention: String) throws {
        let path = temporary("w.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let out = specrun(["export-weights", "mobilenet_v3_small", "--output", path, "--convention", convention])
        #expect(out.exitCode == 0, "\(out.stderr)")
        let image = SpecRun.syntheticImage(MobilenetV3Small.info)
        let fromFile = try MobilenetV3Small(checkpoint: SafeTensorsFile(path: path))
        #expect(fromFile.state.convention.name == convention)
        let index = MobilenetV3Small.info.conventions.firstIndex { $0.name == convention }!
        let synthetic = try MobilenetV3Small(checkpoint: SyntheticCheckpoint(MobilenetV3Small.info, convention: index))
        let same = fromFile.predict(images: image) == synthetic.predict(images: image)
        #expect(same)
    }
}

/// Checkpoints of one network given to another.
@Suite struct ForeignCheckpointTests {
    @Test("a checkpoint of another width is rejected, naming the first mismatching tensor")
    func otherWidth() throws {
        // The timm fixture is width 0.35; parity_v3_large_torchvision is width 0.5 and also
        // accepts timm names.
        let checkpoint = try SafeTensorsFile(path: Repository.fixture("parity_v3_large_timm.safetensors"))
        do {
            _ = try ParityV3LargeTorchvision(checkpoint: checkpoint)
            Issue.record("loaded a width-0.35 checkpoint into a width-0.5 network")
        } catch let error as CheckpointError {
            #expect(error.tensor == "conv_stem.weight")
            #expect(error.message == "expected shape [8, 3, 3, 3], found [16, 3, 3, 3]")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("a MobileNetV3-Large checkpoint is not a MobileNetV3-Small one")
    func otherNetwork() throws {
        let checkpoint = try SafeTensorsFile(path: Repository.fixture("parity_v3_large_timm.safetensors"))
        do {
            _ = try ParityV3SmallTimm(checkpoint: checkpoint)
            Issue.record("loaded a Large checkpoint into Small")
        } catch let error as CheckpointError {
            #expect(error.tensor == "blocks.0.0.se.conv_reduce.weight")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    /// The V3-Large parity fixture's images, and its network on one thread and on two.
    func oneAndTwoThreads() throws -> (images: [Float], single: ParityV3LargeTimm, double: ParityV3LargeTimm) {
        let name = "parity_v3_large_timm"
        let checkpoint = try SafeTensorsFile(path: Repository.fixture(name + ".safetensors"))
        let array = try NPY.read(path: Repository.fixture(name + ".input.npy"))
        return (array.values, try ParityV3LargeTimm(checkpoint: checkpoint, threads: 1),
                try ParityV3LargeTimm(checkpoint: checkpoint, threads: 2))
    }

    @Test("two threads give the same logits as one, bit for bit")
    func threadsAgree() throws {
        let (images, single, double) = try oneAndTwoThreads()
        let info = ParityV3LargeTimm.info
        // One image at a time: every layer split over both threads.
        let image = Array(images[0..<info.inputElements])
        var one = [Float](repeating: 0, count: info.classes), two = one
        single.run(image: image, logits: &one)
        double.run(image: image, logits: &two)
        let identical = one == two
        #expect(identical)
        #expect(one.contains { $0 != 0 })
    }

    @Test("a batch on two threads runs images side by side, with the logits of one thread")
    func batchSideBySide() throws {
        let (fixture, single, double) = try oneAndTwoThreads()
        // Three different images: two side by side, one left over that runs over both threads.
        let imageFloats = ParityV3LargeTimm.info.inputElements
        let images = fixture + fixture[0..<imageFloats].map { -$0 }
        let one = single.predict(images: images)
        let two = double.predict(images: images)
        let identical = one == two
        #expect(identical)
        // Each image's logits are its own, not another lane's.
        let classes = ParityV3LargeTimm.info.classes
        #expect(two[0..<classes] != two[classes..<(2 * classes)])
        #expect(two[0..<classes] != two[(2 * classes)...])
    }
}
