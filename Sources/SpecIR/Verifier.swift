import SpecLang

/// Checks the invariants every pass must keep. A failure is a compiler bug, reported at the
/// spec row of the node involved.
public enum Verifier {
    public static func verify(_ graph: Graph) throws {
        var errors: [Diagnostic] = []
        func fail(_ message: String, _ node: Node) {
            errors.append(Diagnostic(.error, "IR verification failed at \(node.id) (\(node.name)): \(message)", at: node.origin.location))
        }
        guard let first = graph.nodes.first, first.op == .input else {
            throw SpecError("IR verification failed: the first node is not the input", at: nil)
        }
        var defined: Set<NodeID> = []
        var names: Set<String> = []
        for (step, node) in graph.nodes.enumerated() {
            if step > 0, node.op == .input { fail("a second input node", node) }
            for operand in node.op.operands where !defined.contains(operand) {
                fail("reads \(operand), which is not defined before it", node)
            }
            if !names.insert(node.name).inserted { fail("node name '\(node.name)' is used twice", node) }
            if step > 0, node.op.operands.allSatisfy(defined.contains) {
                do {
                    let shape = try graph.inferShape(node.op, at: node.origin.location)
                    if shape != node.shape { fail("shape \(node.shape) but its op produces \(shape)", node) }
                } catch {
                    fail((error as? SpecError)?.diagnostics.first?.message ?? "shape inference failed: \(error)", node)
                }
            }
            if node.op.isInPlace, let x = node.op.operands.first {
                let laterReaders = graph.nodes[(step + 1)...].filter { $0.op.operands.contains(x) }
                if !laterReaders.isEmpty || graph.output == x {
                    fail("writes over \(x) in place, but \(x) is read again later", node)
                }
            }
            defined.insert(node.id)
        }
        if !defined.contains(graph.output) {
            errors.append(Diagnostic(.error, "IR verification failed: the output \(graph.output) is not a node", at: nil))
        }
        if let plan = graph.memoryPlan {
            errors += PlanVerifier.problems(in: plan, of: graph)
        }
        if !errors.isEmpty { throw SpecError(errors) }
    }
}

/// Checks a memory plan against liveness recomputed from the graph, independently of the
/// planner: every tensor has a buffer that is large enough, aligned, and not shared with a
/// tensor that is live at the same time.
public enum PlanVerifier {
    public static func problems(in plan: MemoryPlan, of graph: Graph) -> [Diagnostic] {
        var problems: [String] = []
        let step = Dictionary(uniqueKeysWithValues: graph.nodes.enumerated().map { ($1.id, $0) })
        // When each tensor is last read; in-place successors extend their input's range.
        var lastRead: [NodeID: Int] = [:]
        for (i, node) in graph.nodes.enumerated() {
            for operand in node.op.operands { lastRead[operand] = max(lastRead[operand] ?? 0, i) }
        }
        lastRead[graph.output] = graph.nodes.count - 1
        if !plan.inputInArena && !graph.imageReadDirectly {
            problems.append("the input has no buffer, but a reader of it needs one")
        }
        for (i, buffer) in plan.buffers.enumerated() {
            if buffer.offset % plan.alignment != 0 { problems.append("buffer \(i) at offset \(buffer.offset) is not \(plan.alignment)-byte aligned") }
            if buffer.offset < 0 || buffer.offset + buffer.size > plan.arenaBytes { problems.append("buffer \(i) lies outside the \(plan.arenaBytes)-byte arena") }
            if let owner = buffer.scratchOf {
                guard let at = step[owner] else { problems.append("scratch buffer \(i) belongs to \(owner), not a node"); continue }
                if buffer.firstStep > at || buffer.lastStep < at { problems.append("scratch of \(owner) is not live at its step \(at)") }
                let bytes = graph.scratchElements(of: graph.node(owner), inPlace: plan.overwrites[owner] != nil) * MemoryLayout<Float>.size
                if bytes > buffer.size { problems.append("scratch of \(owner) needs \(bytes) bytes, has \(buffer.size)") }
                continue
            }
            guard let head = buffer.tensors.first, let begin = step[head] else {
                problems.append("buffer \(i) holds no tensor of the graph")
                continue
            }
            let end = buffer.tensors.compactMap { lastRead[$0] ?? step[$0] }.max() ?? begin
            if buffer.firstStep > begin || buffer.lastStep < end {
                problems.append("buffer \(i) (\(head)) is planned live \(buffer.firstStep)...\(buffer.lastStep) but is used \(begin)...\(end)")
            }
            for tensor in buffer.tensors {
                let bytes = graph.node(tensor).shape.elementCount * MemoryLayout<Float>.size
                if bytes > buffer.size { problems.append("\(tensor) needs \(bytes) bytes, its buffer has \(buffer.size)") }
            }
            // A chain: each tensor written over the one before, which its writer reads for the last time.
            for (previous, next) in zip(buffer.tensors, buffer.tensors.dropFirst()) {
                guard let at = step[next], graph.node(next).op.operands.contains(previous) else {
                    problems.append("\(next) shares the buffer of \(previous) without reading it")
                    continue
                }
                if (lastRead[previous] ?? 0) > at || graph.output == previous {
                    problems.append("\(next) overwrites \(previous), which is read again after step \(at)")
                }
            }
        }
        for node in graph.nodes where plan.buffer(of: node.id) == nil && !(node.op == .input && !plan.inputInArena) {
            problems.append("\(node.id) (\(node.name)) has no buffer")
        }
        for node in graph.nodes where graph.scratchElements(of: node) > 0 && plan.scratch(of: node.id) == nil {
            problems.append("\(node.id) (\(node.name)) needs scratch and has none")
        }
        for a in plan.buffers.indices {
            for b in plan.buffers.indices where a < b {
                let x = plan.buffers[a], y = plan.buffers[b]
                if x.overlapsInTime(y), x.overlapsInSpace(y) {
                    problems.append("buffers \(a) and \(b) overlap in the arena while both are live")
                }
            }
        }
        return problems.map { Diagnostic(.error, "memory plan verification failed: \($0)", at: nil) }
    }
}
