import SpecLang
import Testing

@Suite struct SpecLoaderTests {
    let base = """
        network base_net
        resolution 224
        width 1.0
        param head_width = 1.0
        param expansion = ratio
        checkpoint timm bn_eps=1e-5
        """

    @Test("an include expands in place; its overrides and later settings win")
    func includeOverrides() throws {
        let source = InMemorySource([
            "specs/base.spec": base,
            "specs/variant.spec": """
                include "base.spec" network=variant_net width=0.5 head_width=0.25 expansion=scaled
                resolution 160
                """,
        ])
        let spec = try SpecLoader.load("specs/variant.spec", from: source)
        #expect(spec.network == "variant_net")
        #expect(spec.width == 0.5)
        #expect(spec.resolution == 160)
        #expect(spec.classes == 1000)
        #expect(spec.number(named: "head_width") == 0.25)
        #expect(spec.word("expansion") == "scaled")
        #expect(spec.files == ["specs/variant.spec", "specs/base.spec"])
        #expect(spec.checkpoints.map(\.name) == ["timm"])
    }

    @Test("include paths are relative to the including file", arguments: [
        ("a/b/v.spec", "../base.spec", "a/base.spec"),
        ("v.spec", "x/y.spec", "x/y.spec"),
        ("/abs/v.spec", "./base.spec", "/abs/base.spec"),
    ])
    func includePaths(file: String, include: String, resolved: String) {
        #expect(Path.resolve(include, relativeTo: file) == resolved)
    }

    @Test("settings and includes that cannot work are rejected at their location", arguments: [
        ("width 0", "v.spec:2:1: error: width multiplier must be > 0, found 0"),
        ("width -0.5", "v.spec:2:1: error: width multiplier must be > 0, found -0.5"),
        ("width 100", "v.spec:2:1: error: width multiplier 100 is absurd (at most 16)"),
        ("resolution 0", "v.spec:2:1: error: resolution must be a whole number in 1...4096, found 0"),
        ("classes 2.5", "v.spec:2:1: error: class count must be a whole number in 1...1000000, found 2.5"),
        ("depth 2", "v.spec:2:1: error: unknown setting 'depth' (settings are channels, classes, divisor, network, resolution, width; declare other numbers with 'param')"),
        ("param head_width = 2", "v.spec:2:7: error: param 'head_width' is already declared at base.spec:4:7"),
        ("param width = 2", "v.spec:2:7: error: 'width' is a setting; write 'width VALUE' instead of declaring a param"),
        ("include \"other.spec\" depth=3", "v.spec:2:22: error: 'depth' is neither a setting nor a param of 'other.spec'"),
        ("include \"base.spec\"", "v.spec:2:1: error: 'base.spec' is already included"),
        ("include \"missing.spec\"", "v.spec:2:1: error: cannot read included spec 'missing.spec': no such file"),
        ("network 9lives", "v.spec:2:1: error: network name must be letters, digits and '_', starting with a letter"),
    ])
    func rejected(line: String, expected: String) {
        let source = InMemorySource(["base.spec": base, "other.spec": "network other", "v.spec": "include \"base.spec\"\n" + line])
        do {
            _ = try SpecLoader.load("v.spec", from: source)
            Issue.record("expected an error")
        } catch let error as SpecError {
            #expect(error.description == expected)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("a spec that includes itself is an error, not a hang")
    func includeCycle() {
        let source = InMemorySource(["a.spec": "include \"b.spec\"", "b.spec": "include \"a.spec\""])
        do {
            _ = try SpecLoader.load("a.spec", from: source)
            Issue.record("expected an error")
        } catch let error as SpecError {
            #expect(error.description == "b.spec:1:1: error: 'a.spec' includes itself through a.spec -> b.spec")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("a spec without a network name says so")
    func noNetwork() {
        do {
            _ = try SpecLoader.load(text: "width 1.0", name: "n.spec", includes: InMemorySource([:]))
            Issue.record("expected an error")
        } catch let error as SpecError {
            #expect(error.description == "n.spec:1:1: error: the spec names no network; add 'network NAME'")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
