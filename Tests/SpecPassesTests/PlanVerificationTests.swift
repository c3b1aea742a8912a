import Foundation
import SpecIR
import SpecLang
import SpecPasses
import Testing

/// Memory plans checked by the independent verifier: on every shipped spec, and on
/// thousands of random graphs made of chains, residual blocks and SE branches.
@Suite struct PlanVerificationTests {
    static let specs: [String] = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let dir = url.path + "/Specs/"
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".spec") }.sorted().map { dir + $0 }
    }()

    @Test("every shipped spec: the plan verifies and meets the lower bound", arguments: specs)
    func shipped(spec: String) throws {
        var graph = try Lowering.lower(specAt: spec, from: FileSystemSource())
        try Pipeline.run(&graph)
        let plan = try #require(graph.memoryPlan)
        #expect(PlanVerifier.problems(in: plan, of: graph).isEmpty)
        #expect(plan.arenaBytes == plan.lowerBoundBytes)
        #expect(plan.buffers.allSatisfy { $0.offset % 64 == 0 })
    }

    @Test("2000 random graphs: every plan verifies, none is below the bound or above naive")
    func randomGraphs() throws {
        var random = SplitMix(state: 42)
        var atBound = 0, imageInArena = 0
        for index in 0..<2000 {
            var graph = try RandomGraph.make(&random, index: index)
            try Pipeline.run(&graph)
            let plan = try #require(graph.memoryPlan)
            let problems = PlanVerifier.problems(in: plan, of: graph)
            #expect(problems.isEmpty, "graph \(index): \(problems.map(\.message))")
            #expect(plan.arenaBytes >= plan.lowerBoundBytes)
            #expect(plan.arenaBytes <= plan.naiveBytes)
            if plan.arenaBytes == plan.lowerBoundBytes { atBound += 1 }
            if plan.inputInArena { imageInArena += 1 }
            if !problems.isEmpty { break }
        }
        print("random graphs: \(atBound) of 2000 plans at the lower bound")
        #expect(atBound >= 1900, "\(atBound) of 2000 plans at the lower bound")
        // A 1×1 stem reads channels innermost, so it needs the image copied into the arena.
        #expect(imageInArena > 0 && imageInArena < 2000)
    }

    @Test("the verifier rejects a plan without an input buffer when a reader needs one")
    func verifierCatchesMissingInputBuffer() throws {
        var random = SplitMix(state: 7)
        var graph = try RandomGraph.make(&random, index: 0, stemKernel: 1)
        try Pipeline.run(&graph)
        var plan = try #require(graph.memoryPlan)
        #expect(plan.inputInArena)
        #expect(PlanVerifier.problems(in: plan, of: graph).isEmpty)
        plan.inputInArena = false
        plan.buffers.removeAll { $0.tensors.contains(graph.input.id) }
        #expect(PlanVerifier.problems(in: plan, of: graph).contains { $0.message.hasSuffix("the input has no buffer, but a reader of it needs one") })
    }

    @Test("the verifier rejects overlapping, misaligned and short buffers")
    func verifierCatchesBrokenPlans() throws {
        var graph = try lowered()
        try Pipeline.run(&graph)
        let plan = try #require(graph.memoryPlan)
        let live = plan.buffers.indices.filter { plan.buffers[$0].scratchOf == nil }
        var overlapping = plan
        // Put every buffer at offset 0: buffers live at the same time now overlap.
        for i in overlapping.buffers.indices { overlapping.buffers[i].offset = 0 }
        #expect(PlanVerifier.problems(in: overlapping, of: graph).contains { $0.message.contains("overlap") })
        var misaligned = plan
        misaligned.buffers[live[1]].offset += 4
        misaligned.arenaBytes += 4
        #expect(PlanVerifier.problems(in: misaligned, of: graph).contains { $0.message.contains("aligned") })
        var short = plan
        short.buffers[live[1]].size = 4
        #expect(PlanVerifier.problems(in: short, of: graph).contains { $0.message.contains("needs") })
        var early = plan
        early.buffers[live[1]].lastStep = early.buffers[live[1]].firstStep
        #expect(PlanVerifier.problems(in: early, of: graph).contains { $0.message.contains("is used") })
    }
}

/// Random valid graphs: a stem conv (3×3, or 1×1 which needs the image in the arena), then blocks of (expand conv) → depthwise conv →
/// [SE branch] → project conv, with a residual add when shapes allow, then a classifier.
enum RandomGraph {
    static func make(_ random: inout SplitMix, index: Int, stemKernel: Int? = nil) throws -> Graph {
        let names = ModuleName(["m"])
        let origin = Origin(location: SourceLocation(file: "random", line: index, column: 1), text: "random graph \(index)")
        var graph = Graph(network: "random\(index)", specFile: "random", classes: 4, width: 1, conventions: [Convention(name: "c", batchNormEps: 1e-5)])
        let size = 4 + Int(random.next() % 13)
        var x = graph.setInput(TensorShape(channels: 3, height: size, width: size), origin: origin)
        var n = 0
        func name() -> String { n += 1; return "n\(n)" }
        func conv(_ input: NodeID, out: Int, kernel: Int, stride: Int = 1, groups: Int = 1, bias: Bool = false,
                  activation: Activation = .identity) throws -> NodeID {
            let c = Conv(input: input, outChannels: out, kernel: (kernel, kernel), stride: (stride, stride),
                         padding: (kernel / 2, kernel / 2), groups: groups, weight: names, hasBias: bias)
            var id = try graph.append(.conv(c), name: name(), origin: origin)
            id = try graph.append(.batchNorm(input: id, module: names), name: name(), origin: origin)
            if activation != .identity { id = try graph.append(.activation(input: id, activation), name: name(), origin: origin) }
            return id
        }
        let stem = stemKernel ?? [3, 3, 3, 1][Int(random.next() % 4)]
        x = try conv(x, out: 8 * (1 + Int(random.next() % 4)), kernel: stem, stride: 1 + Int(random.next() % 2), activation: .relu)
        for _ in 0..<(1 + Int(random.next() % 6)) {
            let input = x
            let channels = graph.node(x).shape.channels
            let mid = random.next() % 3 == 0 ? channels : channels * (2 + Int(random.next() % 4))
            var y = mid == channels ? x : try conv(x, out: mid, kernel: 1, activation: .hardswish)
            y = try conv(y, out: mid, kernel: [3, 5][Int(random.next() % 2)], stride: 1 + Int(random.next() % 2), groups: mid, activation: .relu)
            if random.next() % 2 == 0 {
                let pool = try graph.append(.globalAveragePool(input: y, before: .identity, after: .identity), name: name(), origin: origin)
                var reduce = Conv(input: pool, outChannels: max(8, mid / 4), kernel: (1, 1), stride: (1, 1), padding: (0, 0), groups: 1, weight: names, hasBias: true)
                reduce.activation = .identity
                let r = try graph.append(.conv(reduce), name: name(), origin: origin)
                let rr = try graph.append(.activation(input: r, .relu), name: name(), origin: origin)
                let expand = Conv(input: rr, outChannels: mid, kernel: (1, 1), stride: (1, 1), padding: (0, 0), groups: 1, weight: names, hasBias: true)
                let e = try graph.append(.conv(expand), name: name(), origin: origin)
                let gate = try graph.append(.activation(input: e, .hardsigmoid), name: name(), origin: origin)
                y = try graph.append(.scaleChannels(input: y, gate: gate), name: name(), origin: origin)
            }
            let out = random.next() % 2 == 0 ? channels : 8 * (1 + Int(random.next() % 6))
            y = try conv(y, out: out, kernel: 1)
            if graph.node(y).shape == graph.node(input).shape, random.next() % 4 != 0 {
                y = try graph.append(.add(y, input), name: name(), origin: origin)
            }
            x = y
        }
        let pool = try graph.append(.globalAveragePool(input: x, before: .identity, after: .identity), name: name(), origin: origin)
        _ = try graph.append(.linear(Linear(input: pool, outFeatures: 4, weight: names, hasBias: true, activation: .identity)), name: name(), origin: origin)
        return graph
    }
}
