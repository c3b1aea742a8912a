/// Parses one spec file into statements. Errors are collected line by line, so one run
/// reports every malformed line; the parse throws if there was any.
public enum Parser {
    public static func parse(_ text: String, file: String) throws -> SpecDocument {
        var state = State(file: file)
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            do {
                let tokens = try Lexer.tokens(of: line, lineNumber: lineNumber, file: file)
                if tokens.isEmpty { continue }
                try state.consume(tokens, text: rowText(line), line: lineNumber)
            } catch let error as SpecError {
                state.errors.append(contentsOf: error.diagnostics)
            } catch {
                state.errors.append(Diagnostic(.error, "\(error)", at: SourceLocation(file: file, line: lineNumber, column: 1)))
            }
        }
        state.finish()
        if !state.errors.isEmpty { throw SpecError(state.errors) }
        return SpecDocument(file: file, statements: state.statements)
    }

    static func rowText(_ line: Substring) -> String {
        let code = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return code.trimmingSpaces()
    }
}

private struct State {
    let file: String
    var statements: [Statement] = []
    var errors: [Diagnostic] = []

    enum Open {
        case layers(isStem: Bool, rows: [LayerRow], location: SourceLocation)
        case table(Table, hasHeader: Bool, stage: Int?)
    }
    var open: Open?

    init(file: String) { self.file = file }

    func location(_ line: Int, _ token: Token) -> SourceLocation {
        SourceLocation(file: file, line: line, column: token.column)
    }

    mutating func consume(_ tokens: [Token], text: String, line: Int) throws {
        let first = tokens[0]
        let here = location(line, first)
        if first.kind == .word, first.text == "end", tokens.count == 1 {
            guard let open else { throw SpecError("'end' without an open 'stem', 'head' or 'blocks' section", at: here) }
            close(open)
            self.open = nil
            return
        }
        switch open {
        case .layers(let isStem, var rows, let start):
            rows.append(try layerRow(tokens, text: text, line: line))
            open = .layers(isStem: isStem, rows: rows, location: start)
        case .table(var table, let hasHeader, var stage):
            if !hasHeader {
                // The header line counts as read even when malformed: one error, not two.
                open = .table(table, hasHeader: true, stage: stage)
                table.columns = try header(tokens, line: line)
                open = .table(table, hasHeader: true, stage: stage)
                return
            }
            if first.kind == .word, first.text == "stage" {
                guard tokens.count == 1 else { throw SpecError("'stage' stands alone on its line", at: location(line, tokens[1])) }
                if stage == nil, !table.rows.isEmpty {
                    throw SpecError("'stage' after rows that have none; once a table uses 'stage', its first row needs one too", at: here)
                }
                stage = (stage ?? -1) + 1
                open = .table(table, hasHeader: true, stage: stage)
                return
            }
            var row = try tableRow(tokens, text: text, line: line)
            row.stage = stage ?? table.rows.count
            table.rows.append(row)
            open = .table(table, hasHeader: true, stage: stage)
        case nil:
            try topLevel(tokens, text: text, line: line)
        }
    }

    mutating func topLevel(_ tokens: [Token], text: String, line: Int) throws {
        let first = tokens[0]
        let here = location(line, first)
        guard first.kind == .word else {
            throw SpecError("expected a statement, found '\(first.text)'", at: here)
        }
        switch first.text {
        case "stem", "head":
            guard tokens.count == 1 else {
                throw SpecError("'\(first.text)' opens a section: put its layers on the following lines and close it with 'end'", at: location(line, tokens[1]))
            }
            open = .layers(isStem: first.text == "stem", rows: [], location: here)
        case "blocks":
            guard tokens.count >= 2, tokens[1].kind == .word else {
                throw SpecError("'blocks' needs a block kind, e.g. 'blocks bneck'", at: here)
            }
            let options = try Self.options(tokens.dropFirst(2), line: line, file: file)
            let table = Table(kind: tokens[1].text, options: options, columns: [], rows: [], location: here)
            open = .table(table, hasHeader: false, stage: nil)
        case "param":
            guard tokens.count == 4, tokens[1].kind == .word, tokens[2].kind == .equals,
                  let value = Self.scalar(tokens[3]) else {
                throw SpecError("expected 'param NAME = VALUE'", at: here)
            }
            statements.append(.param(Option(name: tokens[1].text, value: value, location: location(line, tokens[1]))))
        case "checkpoint":
            guard tokens.count >= 2, tokens[1].kind == .word else {
                throw SpecError("'checkpoint' needs a convention name, e.g. 'checkpoint timm bn_eps=1e-5'", at: here)
            }
            let options = try Self.options(tokens.dropFirst(2), line: line, file: file)
            statements.append(.checkpoint(CheckpointDecl(name: tokens[1].text, options: options, location: location(line, tokens[1]))))
        case "paper":
            statements.append(.paper(try Self.options(tokens.dropFirst(), line: line, file: file), location: here))
        case "include":
            guard tokens.count >= 2, tokens[1].kind == .string else {
                throw SpecError("'include' needs a quoted path, e.g. include \"mobilenet_v1.spec\" width=0.5", at: here)
            }
            let overrides = try Self.options(tokens.dropFirst(2), line: line, file: file)
            statements.append(.include(path: tokens[1].text, overrides: overrides, location: here))
        default:
            guard tokens.count == 2, let value = Self.scalar(tokens[1]) else {
                if tokens.count == 1 {
                    throw SpecError("unknown statement '\(first.text)'", at: here)
                }
                throw SpecError("expected 'SETTING VALUE', e.g. 'width 0.75'", at: here)
            }
            statements.append(.setting(Option(name: first.text, value: value, location: here)))
        }
    }

    mutating func close(_ section: Open) {
        switch section {
        case .layers(let isStem, let rows, let start):
            statements.append(.section(isStem ? .stem(rows, location: start) : .head(rows, location: start)))
        case .table(let table, let hasHeader, _):
            if !hasHeader {
                errors.append(Diagnostic(.error, "table has no header line naming its columns", at: table.location))
            }
            statements.append(.section(.table(table)))
        }
    }

    mutating func finish() {
        guard let open else { return }
        switch open {
        case .layers(let isStem, _, let start):
            errors.append(Diagnostic(.error, "'\(isStem ? "stem" : "head")' section is not closed with 'end'", at: start))
        case .table(let table, _, _):
            errors.append(Diagnostic(.error, "'blocks' section is not closed with 'end'", at: table.location))
        }
    }

    func layerRow(_ tokens: [Token], text: String, line: Int) throws -> LayerRow {
        guard tokens[0].kind == .word else {
            throw SpecError("expected an operation name, found '\(tokens[0].text)'", at: location(line, tokens[0]))
        }
        let options = try Self.options(tokens.dropFirst(), line: line, file: file)
        return LayerRow(op: tokens[0].text, options: options, text: text, location: location(line, tokens[0]))
    }

    func header(_ tokens: [Token], line: Int) throws -> [Column] {
        var columns: [Column] = []
        for token in tokens {
            guard token.kind == .word else {
                throw SpecError("expected column names on the table's first line, found '\(token.text)'", at: location(line, token))
            }
            if columns.contains(where: { $0.name == token.text }) {
                throw SpecError("column '\(token.text)' is named twice", at: location(line, token))
            }
            columns.append(Column(name: token.text, location: location(line, token)))
        }
        return columns
    }

    func tableRow(_ tokens: [Token], text: String, line: Int) throws -> TableRow {
        var cellTokens = tokens[...]
        var repeatCount = 1
        if let last = tokens.last, last.kind == .word, last.text.first == "x", tokens.count > 1,
           let n = Int(last.text.dropFirst()) {
            guard n >= 1, n <= 1000 else {
                throw SpecError("repeat count must be between 1 and 1000, found \(n)", at: location(line, last))
            }
            repeatCount = n
            cellTokens = cellTokens.dropLast()
        }
        var cells: [Cell] = []
        for token in cellTokens {
            guard let value = Self.scalar(token) else {
                throw SpecError("unexpected '\(token.text)' in a table row", at: location(line, token))
            }
            cells.append(Cell(value: value, location: location(line, token)))
        }
        return TableRow(cells: cells, repeatCount: repeatCount, stage: 0, text: text, location: location(line, tokens[0]))
    }

    static func scalar(_ token: Token) -> Value? {
        switch token.kind {
        case .number: return token.number.map(Value.number)
        case .word: return .word(token.text)
        case .string: return .string(token.text)
        case .dash: return .absent
        case .equals, .comma: return nil
        }
    }

    /// `name`, `name=value` or `name=v1,v2,…`.
    static func options(_ tokens: ArraySlice<Token>, line: Int, file: String) throws -> [Option] {
        var options: [Option] = []
        var i = tokens.startIndex
        func loc(_ t: Token) -> SourceLocation { SourceLocation(file: file, line: line, column: t.column) }
        while i < tokens.endIndex {
            let name = tokens[i]
            guard name.kind == .word else {
                throw SpecError("expected an option name, found '\(name.text)'", at: loc(name))
            }
            i += 1
            guard i < tokens.endIndex, tokens[i].kind == .equals else {
                options.append(Option(name: name.text, value: nil, location: loc(name)))
                continue
            }
            i += 1
            var items: [Value] = []
            while true {
                guard i < tokens.endIndex, let value = scalar(tokens[i]) else {
                    let at = i < tokens.endIndex ? loc(tokens[i]) : loc(name)
                    throw SpecError("option '\(name.text)' needs a value after '='", at: at)
                }
                items.append(value)
                i += 1
                guard i < tokens.endIndex, tokens[i].kind == .comma else { break }
                i += 1
            }
            options.append(Option(name: name.text, value: items.count == 1 ? items[0] : .list(items), location: loc(name)))
        }
        return options
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        var s = self
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}
