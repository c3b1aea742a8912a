import SpecIR
import SpecLang

/// A graph-to-graph transformation with a name, as `speccc dump-ir --after NAME` knows it.
public protocol Pass: Sendable {
    var name: String { get }
    /// One line for `speccc passes` and the docs.
    var summary: String { get }
    /// Rewrites the graph; returns whether anything changed.
    func run(_ graph: inout Graph) throws -> Bool
}

/// The one list of passes, in the order the compiler runs them.
public enum Pipeline {
    public static let passes: [any Pass] = [
        FoldBatchNorm(),
        FoldChannelShuffle(),
        FuseActivation(),
        FuseSqueezeExcite(),
        FuseDynamicShiftMax(),
        FuseResidualAdd(),
        FuseExpandDepthwise(),
        PlanMemory(),
    ]

    public static func pass(named name: String) -> (any Pass)? { passes.first { $0.name == name } }

    /// Runs the passes in order, verifying the IR after each, and stops after `lastPass`
    /// when given. `observe` sees the graph after every pass (for dumps).
    public static func run(
        _ graph: inout Graph, through lastPass: String? = nil, verify: Bool = true,
        observe: (String, Graph) -> Void = { _, _ in }
    ) throws {
        if let lastPass, pass(named: lastPass) == nil {
            throw SpecError("unknown pass '\(lastPass)' (passes: \(passes.map(\.name).joined(separator: ", ")))", at: nil)
        }
        if verify { try Verifier.verify(graph) }
        for pass in passes {
            _ = try pass.run(&graph)
            if verify { try Verifier.verify(graph) }
            observe(pass.name, graph)
            if pass.name == lastPass { return }
        }
    }
}
