// A built-in 5×7 bitmap font for printable ASCII, so that plots and contact sheets need
// no font files. The glyphs are drawn here as text art in the style of the classic
// public-domain 5×7 dot-matrix character sets; each string is seven rows of five
// columns, top to bottom, '#' for ink, separated by spaces.

/// One character's bitmap: `rows[y]` bit (width-1-x) is set where column x has ink.
public struct Glyph: Equatable, Sendable {
    public let width: Int
    public let rows: [UInt8]

    public var height: Int { rows.count }

    /// Whether (x, y) inside the glyph has ink; false outside it.
    public func isSet(x: Int, y: Int) -> Bool {
        guard x >= 0, x < width, y >= 0, y < rows.count else { return false }
        return rows[y] >> UInt8(width - 1 - x) & 1 == 1
    }

    /// Parses "#...# .#.#. ..." art; anything but '#' is blank, missing rows or columns are blank.
    init(art: String, width: Int, height: Int) {
        var rows = [UInt8](repeating: 0, count: height)
        for (y, row) in art.split(separator: " ").prefix(height).enumerated() {
            for (x, c) in row.prefix(width).enumerated() where c == "#" {
                rows[y] |= 1 << UInt8(width - 1 - x)
            }
        }
        self.width = width
        self.rows = rows
    }
}

/// A fixed-width bitmap font drawn at integer scales.
public struct Font: Sendable {
    /// Ink columns and rows of every glyph.
    public let glyphWidth: Int
    public let glyphHeight: Int
    /// Pixels from one character's left edge to the next one's (glyph plus spacing), at scale 1.
    public let advance: Int
    /// Pixels from one line's top to the next one's, at scale 1.
    public let lineHeight: Int
    private let glyphs: [Glyph]
    private let missing: Glyph

    /// The built-in 5×7 font: 6-pixel advance, 9-pixel lines.
    public static let standard = Font()

    private init() {
        glyphWidth = 5
        glyphHeight = 7
        advance = 6
        lineHeight = 9
        glyphs = Font.art.map { Glyph(art: $0, width: 5, height: 7) }
        // A hollow box ("tofu") for characters the font lacks: visibly not a real character.
        missing = Glyph(art: "##### #...# #...# #...# #...# #...# #####", width: 5, height: 7)
    }

    /// Whether the font has a real glyph for `c` (printable ASCII, 32–126).
    public func hasGlyph(_ c: Character) -> Bool {
        guard let a = c.asciiValue else { return false }
        return a >= 32 && a <= 126
    }

    /// The glyph for `c`; a hollow box for characters outside printable ASCII.
    public func glyph(_ c: Character) -> Glyph {
        guard hasGlyph(c), let a = c.asciiValue else { return missing }
        return glyphs[Int(a) - 32]
    }

    /// Width and height in pixels of `text` drawn at `scale`: lines split at "\n", no trailing spacing.
    public func size(of text: String, scale: Int = 1) -> (width: Int, height: Int) {
        let s = Font.clampScale(scale)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let longest = lines.map(\.count).max() ?? 0
        guard longest > 0 else { return (0, 0) }
        let width = (longest - 1) * advance + glyphWidth
        let height = (lines.count - 1) * lineHeight + glyphHeight
        return (width * s, height * s)
    }

    /// Scales are at least 1 and at most 256, so that pixel arithmetic cannot overflow.
    static func clampScale(_ scale: Int) -> Int { min(max(scale, 1), 256) }

    /// Characters 32 (space) to 126 (~), in order.
    static let art: [String] = [
        "..... ..... ..... ..... ..... ..... .....", // space
        "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..", // !
        ".#.#. .#.#. .#.#. ..... ..... ..... .....", // "
        ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.", // #
        "..#.. .#### #.#.. .###. ..#.# ####. ..#..", // $
        "##... ##..# ...#. ..#.. .#... #..## ...##", // %
        ".##.. #..#. #.#.. .#... #.#.# #..#. .##.#", // &
        "..#.. ..#.. .#... ..... ..... ..... .....", // '
        "...#. ..#.. .#... .#... .#... ..#.. ...#.", // (
        ".#... ..#.. ...#. ...#. ...#. ..#.. .#...", // )
        "..... ..#.. #.#.# .###. #.#.# ..#.. .....", // *
        "..... ..#.. ..#.. ##### ..#.. ..#.. .....", // +
        "..... ..... ..... ..... .##.. ..#.. .#...", // ,
        "..... ..... ..... ##### ..... ..... .....", // -
        "..... ..... ..... ..... ..... .##.. .##..", // .
        "..... ....# ...#. ..#.. .#... #.... .....", // /
        ".###. #...# #..## #.#.# ##..# #...# .###.", // 0
        "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.", // 1
        ".###. #...# ....# ...#. ..#.. .#... #####", // 2
        "##### ...#. ..#.. ...#. ....# #...# .###.", // 3
        "...#. ..##. .#.#. #..#. ##### ...#. ...#.", // 4
        "##### #.... ####. ....# ....# #...# .###.", // 5
        "..##. .#... #.... ####. #...# #...# .###.", // 6
        "##### ....# ...#. ..#.. .#... .#... .#...", // 7
        ".###. #...# #...# .###. #...# #...# .###.", // 8
        ".###. #...# #...# .#### ....# ...#. .##..", // 9
        "..... .##.. .##.. ..... .##.. .##.. .....", // :
        "..... .##.. .##.. ..... .##.. ..#.. .#...", // ;
        "...#. ..#.. .#... #.... .#... ..#.. ...#.", // <
        "..... ..... ##### ..... ##### ..... .....", // =
        ".#... ..#.. ...#. ....# ...#. ..#.. .#...", // >
        ".###. #...# ....# ...#. ..#.. ..... ..#..", // ?
        ".###. #...# ....# .##.# #.#.# #.#.# .###.", // @
        ".###. #...# #...# ##### #...# #...# #...#", // A
        "####. #...# #...# ####. #...# #...# ####.", // B
        ".###. #...# #.... #.... #.... #...# .###.", // C
        "###.. #..#. #...# #...# #...# #..#. ###..", // D
        "##### #.... #.... ####. #.... #.... #####", // E
        "##### #.... #.... ####. #.... #.... #....", // F
        ".###. #...# #.... #.### #...# #...# .####", // G
        "#...# #...# #...# ##### #...# #...# #...#", // H
        ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.", // I
        "..### ...#. ...#. ...#. ...#. #..#. .##..", // J
        "#...# #..#. #.#.. ##... #.#.. #..#. #...#", // K
        "#.... #.... #.... #.... #.... #.... #####", // L
        "#...# ##.## #.#.# #.#.# #...# #...# #...#", // M
        "#...# #...# ##..# #.#.# #..## #...# #...#", // N
        ".###. #...# #...# #...# #...# #...# .###.", // O
        "####. #...# #...# ####. #.... #.... #....", // P
        ".###. #...# #...# #...# #.#.# #..#. .##.#", // Q
        "####. #...# #...# ####. #.#.. #..#. #...#", // R
        ".#### #.... #.... .###. ....# ....# ####.", // S
        "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..", // T
        "#...# #...# #...# #...# #...# #...# .###.", // U
        "#...# #...# #...# #...# #...# .#.#. ..#..", // V
        "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.", // W
        "#...# #...# .#.#. ..#.. .#.#. #...# #...#", // X
        "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..", // Y
        "##### ....# ...#. ..#.. .#... #.... #####", // Z
        ".###. .#... .#... .#... .#... .#... .###.", // [
        "..... #.... .#... ..#.. ...#. ....# .....", // backslash
        ".###. ...#. ...#. ...#. ...#. ...#. .###.", // ]
        "..#.. .#.#. #...# ..... ..... ..... .....", // ^
        "..... ..... ..... ..... ..... ..... #####", // _
        ".#... ..#.. ...#. ..... ..... ..... .....", // `
        "..... ..... .###. ....# .#### #...# .####", // a
        "#.... #.... #.##. ##..# #...# #...# ####.", // b
        "..... ..... .###. #.... #.... #...# .###.", // c
        "....# ....# .##.# #..## #...# #...# .####", // d
        "..... ..... .###. #...# ##### #.... .###.", // e
        "..##. .#..# .#... ###.. .#... .#... .#...", // f
        "..... .#### #...# #...# .#### ....# .###.", // g
        "#.... #.... #.##. ##..# #...# #...# #...#", // h
        "..#.. ..... .##.. ..#.. ..#.. ..#.. .###.", // i
        "...#. ..... ..##. ...#. ...#. #..#. .##..", // j
        "#.... #.... #..#. #.#.. ##... #.#.. #..#.", // k
        ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.", // l
        "..... ..... ##.#. #.#.# #.#.# #...# #...#", // m
        "..... ..... #.##. ##..# #...# #...# #...#", // n
        "..... ..... .###. #...# #...# #...# .###.", // o
        "..... ..... ####. #...# ####. #.... #....", // p
        "..... ..... .##.# #..## .#### ....# ....#", // q
        "..... ..... #.##. ##..# #.... #.... #....", // r
        "..... ..... .###. #.... .###. ....# ####.", // s
        ".#... .#... ###.. .#... .#... .#..# ..##.", // t
        "..... ..... #...# #...# #...# #..## .##.#", // u
        "..... ..... #...# #...# #...# .#.#. ..#..", // v
        "..... ..... #...# #...# #.#.# #.#.# .#.#.", // w
        "..... ..... #...# .#.#. ..#.. .#.#. #...#", // x
        "..... ..... #...# #...# .#### ....# .###.", // y
        "..... ..... ##### ...#. ..#.. .#... #####", // z
        "...#. ..#.. ..#.. .#... ..#.. ..#.. ...#.", // {
        "..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#..", // |
        ".#... ..#.. ..#.. ...#. ..#.. ..#.. .#...", // }
        "..... ..... .#... #.#.# ...#. ..... .....", // ~
    ]
}
