import SpecLang
import Testing

@Suite struct ParserTests {
    @Test("settings, params, conventions and sections parse in order")
    func topLevel() throws {
        let document = try Parser.parse("""
            # A comment line, then a blank one.

            network    tiny_net
            width      0.75          # trailing comment
            param head_width = 1.0
            checkpoint timm bn_eps=1e-5
            stem
              conv k=3 s=2 out=16 bn act=HS   timm=conv_stem,bn1
            end
            head
              avgpool
              linear out=classes bias          timm=classifier
            end
            """, file: "tiny.spec")

        #expect(document.statements.count == 6)
        #expect(document.statements[0] == .setting(Option(name: "network", value: .word("tiny_net"), location: loc(3, 1))))
        #expect(document.statements[1] == .setting(Option(name: "width", value: .number(0.75), location: loc(4, 1))))
        #expect(document.statements[2] == .param(Option(name: "head_width", value: .number(1), location: loc(5, 7))))
        guard case .checkpoint(let checkpoint) = document.statements[3] else { Issue.record("not a checkpoint"); return }
        #expect(checkpoint.name == "timm")
        #expect(checkpoint.options == [Option(name: "bn_eps", value: .number(1e-5), location: loc(6, 17))])
        guard case .section(.stem(let rows, _)) = document.statements[4] else { Issue.record("not a stem"); return }
        #expect(rows.count == 1)
        #expect(rows[0].op == "conv")
        #expect(rows[0].text == "conv k=3 s=2 out=16 bn act=HS   timm=conv_stem,bn1")
        #expect(rows[0].location == loc(8, 3))
        #expect(rows[0].options.map(\.name) == ["k", "s", "out", "bn", "act", "timm"])
        #expect(rows[0].options[3].value == nil)
        #expect(rows[0].options[5].value == .list([.word("conv_stem"), .word("bn1")]))
    }

    @Test("a table has a header of column names, stage groups and rows of cells")
    func table() throws {
        let document = try Parser.parse("""
            blocks bneck  timm=blocks.{stage}.{index}
              k   exp  out  se  nl  s
              stage
              3   16   16   -   RE  1
              stage
              3   64   24   -   RE  2
              5   72   40   SE  HS  1   x2
            end
            """, file: "t.spec")

        guard case .section(.table(let table)) = document.statements.first else { Issue.record("no table"); return }
        #expect(table.kind == "bneck")
        #expect(table.options == [Option(name: "timm", value: .word("blocks.{stage}.{index}"), location: loc(1, 15, "t.spec"))])
        #expect(table.columns.map(\.name) == ["k", "exp", "out", "se", "nl", "s"])
        #expect(table.rows.map(\.stage) == [0, 1, 1])
        #expect(table.rows.map(\.repeatCount) == [1, 1, 2])
        #expect(table.rows[0].cells.map(\.value) == [.number(3), .number(16), .number(16), .absent, .word("RE"), .number(1)])
        #expect(table.rows[2].cells[3].location == loc(7, 17, "t.spec"))
        #expect(table.rows[2].text == "5   72   40   SE  HS  1   x2")
    }

    @Test("without stage lines, each row is its own stage")
    func rowsAreStages() throws {
        let document = try Parser.parse("""
            blocks ir
              t  c   n  s
              1  16  1  1
              6  24  2  2
            end
            """, file: "v2.spec")
        guard case .section(.table(let table)) = document.statements.first else { Issue.record("no table"); return }
        #expect(table.rows.map(\.stage) == [0, 1])
    }

    @Test("include takes a quoted path and overrides")
    func include() throws {
        let document = try Parser.parse(#"include "base.spec" width=0.5 network=small"#, file: "v.spec")
        #expect(document.statements == [.include(path: "base.spec", overrides: [
            Option(name: "width", value: .number(0.5), location: loc(1, 21, "v.spec")),
            Option(name: "network", value: .word("small"), location: loc(1, 31, "v.spec")),
        ], location: loc(1, 1, "v.spec"))])
    }

    @Test("every malformed line is reported, each at its line and column", arguments: [
        ("width", "tiny.spec:1:1: error: unknown statement 'width'"),
        ("stem conv k=3", "tiny.spec:1:6: error: 'stem' opens a section: put its layers on the following lines and close it with 'end'"),
        ("end", "tiny.spec:1:1: error: 'end' without an open 'stem', 'head' or 'blocks' section"),
        ("include base.spec", "tiny.spec:1:1: error: 'include' needs a quoted path, e.g. include \"mobilenet_v1.spec\" width=0.5"),
        ("include \"base.spec", "tiny.spec:1:9: error: unterminated string"),
        ("param x 3", "tiny.spec:1:1: error: expected 'param NAME = VALUE'"),
        ("width 1 2", "tiny.spec:1:1: error: expected 'SETTING VALUE', e.g. 'width 0.75'"),
        ("network a@b", "tiny.spec:1:10: error: unexpected character '@'"),
        ("stem\n  conv k=\nend", "tiny.spec:2:8: error: option 'k' needs a value after '='"),
        ("stem\n  conv k=3", "tiny.spec:1:1: error: 'stem' section is not closed with 'end'"),
        ("blocks bneck\n  k s\n  3 1\n  stage\nend", "tiny.spec:4:3: error: 'stage' after rows that have none; once a table uses 'stage', its first row needs one too"),
        ("blocks bneck\n  k 3\nend", "tiny.spec:2:5: error: expected column names on the table's first line, found '3'"),
        ("blocks bneck\n  k k\nend", "tiny.spec:2:5: error: column 'k' is named twice"),
        ("blocks bneck\n  k\n  3 = 4\nend", "tiny.spec:3:5: error: unexpected '=' in a table row"),
        ("blocks bneck\nend", "tiny.spec:1:1: error: table has no header line naming its columns"),
    ])
    func diagnostics(text: String, expected: String) {
        #expect(throws: SpecError.self) { try Parser.parse(text, file: "tiny.spec") }
        do {
            _ = try Parser.parse(text, file: "tiny.spec")
        } catch let error as SpecError {
            #expect(error.description == expected)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("errors on several lines are all reported")
    func severalErrors() {
        do {
            _ = try Parser.parse("bogus\nnetwork x\nother\n", file: "f.spec")
            Issue.record("expected errors")
        } catch let error as SpecError {
            #expect(error.diagnostics.map(\.description) == [
                "f.spec:1:1: error: unknown statement 'bogus'",
                "f.spec:3:1: error: unknown statement 'other'",
            ])
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    func loc(_ line: Int, _ column: Int, _ file: String = "tiny.spec") -> SpecLang.SourceLocation {
        SpecLang.SourceLocation(file: file, line: line, column: column)
    }
}
