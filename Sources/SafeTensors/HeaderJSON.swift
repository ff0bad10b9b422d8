/// A JSON value of a safetensors header, as `HeaderJSON.parse` reads it.
///
/// The header is parsed here rather than with Foundation's `JSONSerialization`, whose first call
/// took ~3 ms of every DA3-Small load (a 51 KB header: 437 tensors) building bridged objects: opening
/// the checkpoint now takes ~1 ms instead of ~4. It accepts exactly RFC 8259 JSON (UTF-8, whitespace
/// around values, as the format's trailing-space padding needs; no trailing commas, which
/// Foundation let pass and the format's own reader refuses).
enum HeaderJSON: Equatable {
    /// Members in file order (a repeated name keeps every occurrence; readers take the last).
    case object([Member])
    case array([HeaderJSON])
    case string(String)
    case number(Double)
    case bool(Bool)
    case null

    /// One name and value of an object.
    struct Member: Equatable {
        let name: String
        let value: HeaderJSON
    }

    /// Not JSON (the position is a byte offset into the text).
    struct SyntaxError: Error {
        let offset: Int
    }

    /// Nesting deeper than this is refused (a header needs 3 levels).
    static let maxDepth = 64

    /// The single JSON value of `text`.
    static func parse(_ text: UnsafeRawBufferPointer) throws -> HeaderJSON {
        var reader = Reader(bytes: text)
        reader.skipWhitespace()
        let value = try reader.value(depth: 0)
        reader.skipWhitespace()
        guard reader.position == text.count else { throw SyntaxError(offset: reader.position) }
        return value
    }

    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var position = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

        private func fail() -> SyntaxError { SyntaxError(offset: position) }

        mutating func skipWhitespace() {
            while let c = current, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { position += 1 }
        }

        private mutating func expect(_ byte: UInt8) throws {
            guard current == byte else { throw fail() }
            position += 1
        }

        mutating func value(depth: Int) throws -> HeaderJSON {
            guard depth < HeaderJSON.maxDepth, let c = current else { throw fail() }
            switch c {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            default: return .number(try number())
            }
        }

        private mutating func object(depth: Int) throws -> HeaderJSON {
            position += 1
            var members: [Member] = []
            skipWhitespace()
            if current == UInt8(ascii: "}") {
                position += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                let name = try string()
                skipWhitespace()
                try expect(UInt8(ascii: ":"))
                skipWhitespace()
                members.append(Member(name: name, value: try value(depth: depth + 1)))
                skipWhitespace()
                if current == UInt8(ascii: ",") { position += 1; continue }
                try expect(UInt8(ascii: "}"))
                return .object(members)
            }
        }

        private mutating func array(depth: Int) throws -> HeaderJSON {
            position += 1
            var elements: [HeaderJSON] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") {
                position += 1
                return .array(elements)
            }
            while true {
                skipWhitespace()
                elements.append(try value(depth: depth + 1))
                skipWhitespace()
                if current == UInt8(ascii: ",") { position += 1; continue }
                try expect(UInt8(ascii: "]"))
                return .array(elements)
            }
        }

        private mutating func literal(_ word: StaticString) throws {
            let count = word.utf8CodeUnitCount
            guard bytes.count - position >= count else { throw fail() }
            for i in 0..<count where bytes[position + i] != word.utf8Start[i] { throw fail() }
            position += count
        }

        /// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
        private mutating func number() throws -> Double {
            let start = position
            func digits(_ reader: inout Reader) -> Int {
                let from = reader.position
                while let c = reader.current, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { reader.position += 1 }
                return reader.position - from
            }
            if current == UInt8(ascii: "-") { position += 1 }
            let first = current
            let integer = digits(&self)
            guard integer > 0, !(first == UInt8(ascii: "0") && integer > 1) else { throw SyntaxError(offset: start) }
            if current == UInt8(ascii: ".") {
                position += 1
                guard digits(&self) > 0 else { throw fail() }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                position += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
                guard digits(&self) > 0 else { throw fail() }
            }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
            guard let value = Double(text) else { throw SyntaxError(offset: start) }
            return value
        }

        /// A string, its escapes decoded; its bytes must be valid UTF-8 without control characters.
        private mutating func string() throws -> String {
            try expect(UInt8(ascii: "\""))
            let start = position
            // The common case, no escapes: one validated copy of the bytes.
            while let c = current, c != UInt8(ascii: "\""), c != UInt8(ascii: "\\") {
                guard c >= 0x20 else { throw fail() }
                position += 1
            }
            guard let c = current else { throw fail() }
            var utf8 = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<position]))
            if c == UInt8(ascii: "\\") { try escapedRemainder(into: &utf8) }
            position += 1  // the closing quote
            guard let text = String(validating: utf8, as: UTF8.self) else { throw SyntaxError(offset: start) }
            return text
        }

        /// The rest of a string from its first backslash to (not past) its closing quote.
        private mutating func escapedRemainder(into utf8: inout [UInt8]) throws {
            while let c = current, c != UInt8(ascii: "\"") {
                guard c >= 0x20 else { throw fail() }
                guard c == UInt8(ascii: "\\") else {
                    utf8.append(c)
                    position += 1
                    continue
                }
                position += 1
                guard let e = current else { throw fail() }
                position += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(e)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A high surrogate must be followed by an escaped low one.
                        guard bytes.count - position >= 6, bytes[position] == UInt8(ascii: "\\"),
                              bytes[position + 1] == UInt8(ascii: "u") else { throw fail() }
                        position += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail() }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw fail() }
                    utf8.append(contentsOf: Array(String(Character(unicode)).utf8))
                default: throw fail()
                }
            }
            guard current != nil else { throw fail() }
        }

        private mutating func hex4() throws -> UInt32 {
            guard bytes.count - position >= 4 else { throw fail() }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[position]
                let digit: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
                default: throw fail()
                }
                value = value << 4 | UInt32(digit)
                position += 1
            }
            return value
        }
    }
}
