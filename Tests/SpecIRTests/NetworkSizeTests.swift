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

    /// Measured from the reference models with `python3 Scripts/measure_sizes.py`.
    @Test("every spec in Specs/ has its sizes checked here")
    func everySpecIsChecked() throws {
        let specs = try FileManager.default.contentsOfDirectory(atPath: Self.specs).filter { $0.hasSuffix(".spec") }
        #expect(Set(specs) == Set(Self.checked), "unchecked: \(Set(specs).subtracting(Self.checked).sorted())")
    }

    static let checked = ["mobilenet_v1.spec", "mobilenet_v1_075.spec", "mobilenet_v1_050.spec", "mobilenet_v1_025.spec",
                          "mobilenet_v2.spec", "mobilenet_v3_large.spec", "mobilenet_v3_large_075.spec", "mobilenet_v3_small.spec",
                          "pp_lcnet.spec", "pp_lcnet_050.spec", "pp_lcnet_075.spec", "pp_lcnet_150.spec",
                          "micronet_m0.spec", "micronet_m1.spec", "micronet_m2.spec", "micronet_m3.spec"]

    @Test("params equal PyTorch's exactly; MACs are within 0.5%", arguments: [
        ("mobilenet_v1.spec", 4_231_976, 568_740_352),
        ("mobilenet_v1_075.spec", 2_585_560, 325_400_448),
        ("mobilenet_v1_050.spec", 1_331_592, 149_497_088),
        ("mobilenet_v1_025.spec", 470_072, 41_030_272),
        ("mobilenet_v2.spec", 3_504_872, 300_774_272),
        ("mobilenet_v3_large.spec", 5_483_032, 216_589_760),
        ("mobilenet_v3_large_075.spec", 3_993_528, 154_560_624),
        ("mobilenet_v3_small.spec", 2_542_856, 56_510_400),
        ("pp_lcnet.spec", 2_953_800, 155_700_480),
        ("pp_lcnet_050.spec", 1_880_856, 44_731_008),
        ("pp_lcnet_075.spec", 2_358_288, 94_786_496),
        ("pp_lcnet_150.spec", 4_501_112, 334_188_416),
        ("micronet_m0.spec", 1_019_590, 3_448_880),
        ("micronet_m1.spec", 1_777_587, 5_314_080),
        ("micronet_m2.spec", 2_393_876, 10_338_128),
        ("micronet_m3.spec", 2_622_960, 18_236_000),
    ])
    func sizes(spec: String, params: Int, macs: Int) throws {
        let stats = NetworkStats(try Lowering.lower(specAt: Self.specs + spec, from: FileSystemSource()))
        #expect(stats.params == params)
        #expect(abs(Double(stats.macs - macs)) / Double(macs) < 0.005, "\(stats.macs) MACs, PyTorch \(macs)")
    }
}
