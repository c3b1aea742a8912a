import SpecIR
import SpecLang

/// Gives every tensor (and every op's scratch) a byte range of one arena, reusing the
/// space of tensors that are no longer live. The arena size is then a compile-time constant.
public struct PlanMemory: Pass {
    public let name = "plan-memory"
    public let summary = "assign every tensor an offset in one arena, reusing dead tensors' space"
    public static let alignment = 64
    public init() {}

    public func run(_ graph: inout Graph) throws -> Bool {
        let requests = Liveness.buffers(of: graph, alignment: Self.alignment)
        let placed = OffsetAssignment.greedyBySize(requests)
        let arena = placed.map { $0.offset + $0.size }.max() ?? 0
        graph.memoryPlan = MemoryPlan(
            buffers: placed, alignment: Self.alignment, arenaBytes: arena,
            lowerBoundBytes: Liveness.lowerBound(requests, steps: graph.nodes.count),
            naiveBytes: requests.reduce(0) { $0 + $1.size }, greedyBytes: arena)
        return true
    }
}

/// Live ranges over the schedule (the graph's node order).
public enum Liveness {
    /// One unplaced buffer (offset 0) per tensor chain and per scratch need.
    public static func buffers(of graph: Graph, alignment: Int) -> [MemoryPlan.Buffer] {
        var lastRead: [NodeID: Int] = [:]
        for (step, node) in graph.nodes.enumerated() {
            for operand in node.op.operands { lastRead[operand] = step }
        }
        lastRead[graph.output] = graph.nodes.count - 1
        func bytes(_ floats: Int) -> Int { (floats * MemoryLayout<Float>.size + alignment - 1) / alignment * alignment }

        var buffers: [MemoryPlan.Buffer] = []
        var bufferOf: [NodeID: Int] = [:]
        for (step, node) in graph.nodes.enumerated() {
            if node.op.isInPlace, let x = node.op.operands.first, let index = bufferOf[x] {
                buffers[index].tensors.append(node.id)
                buffers[index].lastStep = max(buffers[index].lastStep, lastRead[node.id] ?? step)
                bufferOf[node.id] = index
            } else {
                bufferOf[node.id] = buffers.count
                buffers.append(.init(tensors: [node.id], offset: 0, size: bytes(node.shape.elementCount),
                                     firstStep: step, lastStep: lastRead[node.id] ?? step))
            }
            let scratch = graph.scratchElements(of: node)
            if scratch > 0 {
                buffers.append(.init(tensors: [], scratchOf: node.id, offset: 0, size: bytes(scratch), firstStep: step, lastStep: step))
            }
        }
        return buffers
    }

    /// The most bytes live at one step: no offset assignment can use less.
    public static func lowerBound(_ buffers: [MemoryPlan.Buffer], steps: Int) -> Int {
        var live = [Int](repeating: 0, count: steps + 1)
        for buffer in buffers {
            for step in buffer.firstStep...buffer.lastStep { live[step] += buffer.size }
        }
        return live.max() ?? 0
    }
}

public enum OffsetAssignment {
    /// Largest buffers first, each at the lowest offset where it fits beside the buffers
    /// already placed that are live at the same time.
    public static func greedyBySize(_ buffers: [MemoryPlan.Buffer]) -> [MemoryPlan.Buffer] {
        var placed: [MemoryPlan.Buffer] = []
        let order = buffers.indices.sorted { (buffers[$0].size, -buffers[$0].firstStep) > (buffers[$1].size, -buffers[$1].firstStep) }
        var result = buffers
        for index in order {
            var buffer = buffers[index]
            buffer.offset = lowestFit(buffer, among: placed)
            placed.append(buffer)
            result[index] = buffer
        }
        return result
    }

    /// The lowest offset at which `buffer` overlaps no time-overlapping buffer of `placed`.
    static func lowestFit(_ buffer: MemoryPlan.Buffer, among placed: [MemoryPlan.Buffer]) -> Int {
        let conflicts = placed.filter { $0.overlapsInTime(buffer) }.sorted { $0.offset < $1.offset }
        var offset = 0
        for other in conflicts {
            if offset + buffer.size <= other.offset { break }
            offset = max(offset, other.offset + other.size)
        }
        return offset
    }
}
