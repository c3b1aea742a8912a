import Foundation
import ParityNetworks
import SpecRuntime
import Testing

/// Every fixture network, generated from Tests/ParityNetworks/*.spec, against the logits
/// its PyTorch reference produced (Scripts/make_fixtures.py).
@Suite struct ParityTests {
    static let networks = CompiledNetworks.all.map { network in network.info.name }

    @Test("generated code matches PyTorch within 1e-4 of the largest logit", arguments: networks)
    func matchesReference(network name: String) throws {
        let network = try #require(CompiledNetworks.all.first { $0.info.name == name })
        let checkpoint = try SafeTensorsFile(path: Repository.fixture(name + ".safetensors"))
        let input = try NPY.read(path: Repository.fixture(name + ".input.npy"))
        let expected = try NPY.read(path: Repository.fixture(name + ".output.npy"))
        let model = try network.init(checkpoint: checkpoint, convention: nil, threads: 1)

        let logits = model.predict(images: input.values)

        #expect(expected.shape == [input.shape[0], network.info.classes])
        let scale = expected.values.map(abs).max()!
        let error = zip(logits, expected.values).map { abs($0 - $1) }.max()!
        #expect(error <= 1e-4 * scale, "max |Δ| = \(error), max |reference| = \(scale)")
    }

    @Test("the fixture's logits depend on the input, so parity means something", arguments: networks)
    func logitsDependOnInput(network name: String) throws {
        let expected = try NPY.read(path: Repository.fixture(name + ".output.npy"))
        let classes = expected.shape[1]
        let first = expected.values[0..<classes], second = expected.values[classes..<(2 * classes)]
        let difference = zip(first, second).map { abs($0 - $1) }.max()!
        #expect(difference > 0.05 * first.map(abs).max()!)
    }
}
