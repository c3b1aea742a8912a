#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where spec text comes from: the file system for the tools, a dictionary in tests.
public protocol SpecSource {
    func read(_ path: String) throws -> String
}

/// Reads specs from disk.
public struct FileSystemSource: SpecSource, Sendable {
    public init() {}

    public func read(_ path: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let text = String(data: data, encoding: .utf8) else {
            throw SpecError("file is not valid UTF-8", at: SourceLocation(file: path, line: 1, column: 1))
        }
        return text
    }
}

/// Specs held in memory, keyed by path, so tests need no files.
public struct InMemorySource: SpecSource, Sendable {
    public var files: [String: String]

    public init(_ files: [String: String]) { self.files = files }

    public func read(_ path: String) throws -> String {
        guard let text = files[Path.normalize(path)] ?? files[path] else {
            throw SpecError("no such file", at: nil)
        }
        return text
    }
}

/// Just enough path arithmetic for includes, without touching the file system.
public enum Path {
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    public static func fileName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// `include` paths are relative to the including file unless absolute.
    public static func resolve(_ path: String, relativeTo file: String) -> String {
        if path.hasPrefix("/") { return normalize(path) }
        let dir = directory(of: file)
        return normalize(dir.isEmpty ? path : dir + "/" + path)
    }

    public static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        return path.hasPrefix("/") ? "/" + joined : joined
    }
}
