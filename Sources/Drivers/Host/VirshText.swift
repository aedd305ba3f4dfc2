/// printf-style padding for virsh's text formats, without Foundation.
enum VirshText {
    /// `%-<width>s %s`: the label left-justified in `width` columns, a space, the value.
    static func field(_ label: String, _ value: String, width: Int) -> String {
        leftJustified(label, width) + " " + value
    }

    /// `%-<width>s`.
    static func leftJustified(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// `%<width>s` / `%<width>d`.
    static func rightJustified(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }
}
