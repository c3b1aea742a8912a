import SpecRuntime
import Testing

/// Weights and arenas: zeroed, vector-aligned, and from 2 MB up aligned to a 2 MB page so
/// the kernel can back them with huge pages.
@Suite struct AlignedBufferTests {
    @Test("small buffers are zeroed and 64-byte aligned", arguments: [1, 100, 4096])
    func small(floats: Int) {
        let buffer = AlignedBuffer(floats: floats)
        #expect(Int(bitPattern: buffer.pointer) % 64 == 0)
        #expect((0..<floats).allSatisfy { buffer.pointer[$0] == 0 })
    }

    @Test("buffers of 2 MB and more start on a 2 MB page", arguments: [2 << 20, 5 << 20 + 12])
    func huge(bytes: Int) {
        let buffer = AlignedBuffer(bytes: bytes)
        #expect(Int(bitPattern: buffer.pointer) % (2 << 20) == 0)
        #expect(buffer.floats == (bytes + 3) / 4)
        let last = buffer.floats - 1
        #expect(buffer.pointer[0] == 0 && buffer.pointer[last] == 0)
        buffer.pointer[last] = 1
        #expect(buffer.pointer[last] == 1)
    }
}
