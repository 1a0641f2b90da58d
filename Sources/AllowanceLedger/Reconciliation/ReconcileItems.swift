import Foundation

extension ItemState {
    /// The state column read without building a string; nil for anything but the four states.
    package init?(bytes: UnsafeBufferPointer<UInt8>) {
        switch bytes.count {
        case 4 where bytes.elementsEqual("open".utf8): self = .open
        case 4 where bytes.elementsEqual("paid".utf8): self = .paid
        case 6 where bytes.elementsEqual("failed".utf8): self = .failed
        case 9 where bytes.elementsEqual("paid_cash".utf8): self = .paidCash
        default: return nil
        }
    }
}
