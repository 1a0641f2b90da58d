/// A value whose text is a literal (an enum's raw value, spelled again as a `StaticString`; a test checks the two agree).
package protocol StaticText {
    var staticText: StaticString { get }
}
