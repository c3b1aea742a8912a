import Foundation
import SpecIR
import SpecLang
import Testing

/// The shipped specs against the sizes PyTorch reports for the reference models
/// (`sum(p.numel() for p in model.parameters())`, conv+linear MACs at 224; NETWORKS.md).
@Suite struct NetworkSizeTests {
    static let specs: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path + "/Specs/"
    }()

    @Test("params equal PyTorch's exactly; MACs are within 0.5%", arguments: [
        ("mobilenet_v3_large.spec", 5_483_032, 216.6e6),
        ("mobilenet_v3_small.spec", 2_542_856, 56.5e6),
    ])
    func sizes(spec: String, params: Int, macs: Double) throws {
        let stats = NetworkStats(try Lowering.lower(specAt: Self.specs + spec, from: FileSystemSource()))
        #expect(stats.params == params)
        #expect(abs(Double(stats.macs) - macs) / macs < 0.005, "\(stats.macs) MACs")
    }
}
