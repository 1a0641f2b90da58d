/// A small, fast, seeded random number generator (SplitMix64), so generated data is the same on every machine.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// Picks from `(value, weight)` pairs.
    public mutating func weighted<T>(_ choices: [(T, Int)]) -> T {
        let total = choices.reduce(0) { $0 + $1.1 }
        var roll = below(total)
        for (value, weight) in choices {
            if roll < weight { return value }
            roll -= weight
        }
        return choices[choices.count - 1].0
    }
}

/// Writes a synthetic register in exactly the format offices bring: Vietnamese names with diacritics, communes
/// and categories in realistic proportions, about half on mobile money, phone numbers in mixed spellings and a
/// few numbers shared between beneficiaries. The same seed gives the same bytes.
public struct RegisterGenerator: Sendable {
    public var count: Int
    public var seed: UInt64
    public var communes: [String]
    /// Share of beneficiaries on mobile money, in percent.
    public var mobileMoneyPercent = 50
    /// Beneficiaries (per ten thousand) who share a phone number with an earlier one.
    public var sharedNumbersPerTenThousand = 20
    /// The day ages are computed against.
    public var today = CalendarDate(year: 2026, month: 11, day: 1)!

    public static let defaultCommunes = [
        "26734", "26737", "26740", "26743", "26746", "26749", "26752", "26755", "26758",
        "26761", "26764", "26767", "26770", "26773", "26776", "26779", "26782", "26785",
    ]

    public init(count: Int, seed: UInt64, communes: [String] = RegisterGenerator.defaultCommunes) {
        self.count = count
        self.seed = seed
        self.communes = communes
    }

    static let familyNames: [(String, Int)] = [
        ("Nguyễn", 380), ("Trần", 110), ("Lê", 95), ("Phạm", 70), ("Hoàng", 30), ("Huỳnh", 21), ("Phan", 45),
        ("Vũ", 20), ("Võ", 19), ("Đặng", 21), ("Bùi", 20), ("Đỗ", 14), ("Hồ", 13), ("Ngô", 13), ("Dương", 10),
        ("Lý", 5), ("Đinh", 6), ("Trương", 5), ("Lương", 4), ("Cao", 3),
    ]
    static let maleMiddle = ["Văn", "Văn", "Văn", "Hữu", "Đức", "Minh", "Quang", "Xuân", "Thanh", "Công", "Đình"]
    static let femaleMiddle = ["Thị", "Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Kim", "Xuân", "Hồng"]
    static let maleGiven = ["Hùng", "Dũng", "Tuấn", "Bình", "Hải", "Long", "Cường", "Sơn", "Thắng", "Phúc", "Quý", "Toàn",
                            "Khánh", "Nghĩa", "Đạt", "Lộc", "Tài", "Việt", "Hưng", "Thành", "Trung", "Nam", "An", "Huy"]
    static let femaleGiven = ["Lan", "Hoa", "Mai", "Hương", "Nga", "Thảo", "Phương", "Yến", "Hạnh", "Thu", "Hà", "Linh",
                              "Huệ", "Nhung", "Loan", "Tuyết", "Hằng", "Thủy", "Dung", "Liên", "Ánh", "Trang", "Oanh", "Vân"]
    /// Category, weight, birth years.
    static let categories: [((String, ClosedRange<Int>), Int)] = [
        (("ELDERLY_80", 1926...1945), 440), (("ELDERLY_POOR", 1947...1965), 80), (("ELDERLY_POOR_80", 1930...1945), 30),
        (("DISABLED_SEVERE", 1950...2010), 200), (("DISABLED_EXTREME", 1950...2010), 60),
        (("DISABLED_SEVERE_CHILD_ELDERLY", 1935...1960), 60), (("DISABLED_EXTREME_CHILD_ELDERLY", 2012...2022), 20),
        (("ORPHAN", 2009...2021), 30), (("ORPHAN_UNDER_4", 2023...2025), 10), (("SINGLE_PARENT_POOR", 1976...2000), 60),
    ]
    static let provinces = ["001", "022", "025", "026", "030", "031", "033", "034", "035", "036", "037", "038", "040", "042",
                            "044", "045", "046", "048", "049", "051", "052", "054", "056", "058", "060", "062", "064", "066",
                            "068", "070", "072", "074", "075", "077", "079", "080", "082", "083", "084", "086", "087", "089",
                            "091", "092", "093", "094", "095", "096"]
    /// Carrier and the prefixes it issues (numbers port later, so the generator only uses these to look real).
    static let carriers: [((String, [String]), Int)] = [
        (("VIETTEL", ["086", "096", "097", "098", "032", "033", "034", "035", "036", "037", "038", "039"]), 55),
        (("VNPT", ["088", "091", "094", "081", "082", "083", "084", "085"]), 30),
        (("MOBIFONE", ["089", "090", "093", "070", "076", "077", "078", "079"]), 15),
    ]

    /// Writes the register to `path` and returns how many lines were written.
    @discardableResult
    public func write(to path: String) throws(FileError) -> Int {
        var random = SeededRandom(seed: seed)
        let writer = try CSVWriter(path: path, neutralisesFormulas: false)
        try writer.row(RawRegisterFields.basicColumns)
        var usedIDs = Set<UInt64>()
        usedIDs.reserveCapacity(count)
        var recentNumbers: [String] = []
        let communeWeights = communes.enumerated().map { ($0.element, 40 + ($0.offset * 37) % 60) }
        for _ in 0..<count {
            let gender: Gender = random.below(100) < 58 ? .female : .male
            let family = random.weighted(Self.familyNames)
            let middle = gender == .female ? Self.femaleMiddle[random.below(Self.femaleMiddle.count)] : Self.maleMiddle[random.below(Self.maleMiddle.count)]
            let given = gender == .female ? Self.femaleGiven[random.below(Self.femaleGiven.count)] : Self.maleGiven[random.below(Self.maleGiven.count)]
            let (category, years) = random.weighted(Self.categories)
            let year = years.lowerBound + random.below(years.count)
            let month = 1 + random.below(12)
            let day = 1 + random.below(CalendarDate.daysIn(month: month, year: year))
            let birth = CalendarDate(year: year, month: month, day: day)!
            var nationalID: String
            repeat {
                let province = Self.provinces[random.below(Self.provinces.count)]
                let serial = random.below(1_000_000)
                nationalID = province + String(NationalID.centuryGenderDigit(year: year, gender: gender)) + pad(year % 100, 2) + pad(serial, 6)
            } while !usedIDs.insert(UInt64(nationalID)!).inserted
            let commune = random.weighted(communeWeights)
            let mobile = random.below(100) < mobileMoneyPercent
            var carrier = ""
            var msisdn = ""
            if mobile {
                let (code, prefixes) = random.weighted(Self.carriers)
                carrier = code
                if !recentNumbers.isEmpty, random.below(10_000) < sharedNumbersPerTenThousand {
                    msisdn = recentNumbers[random.below(recentNumbers.count)]
                } else {
                    let prefix = prefixes[random.below(prefixes.count)]
                    let subscriber = pad(random.below(10_000_000), 7)
                    let national = prefix + subscriber
                    switch random.below(10) {
                    case 0..<5: msisdn = national
                    case 5, 6: msisdn = "84" + national.dropFirst()
                    case 7: msisdn = "+84" + national.dropFirst()
                    case 8: msisdn = "\(national.prefix(4)) \(national.dropFirst(4).prefix(3)) \(national.suffix(3))"
                    default: msisdn = "\(national.prefix(4)).\(national.dropFirst(4).prefix(3)).\(national.suffix(3))"
                    }
                    if recentNumbers.count < 256 { recentNumbers.append(msisdn) } else { recentNumbers[random.below(256)] = msisdn }
                }
            }
            writer.text(nationalID)
            writer.text("\(family) \(middle) \(given)")
            writer.text(birth.description)
            writer.text(gender.rawValue)
            writer.text(commune)
            writer.text(category)
            writer.text(mobile ? PaymentMethod.mobileMoney.rawValue : PaymentMethod.cash.rawValue)
            writer.text(carrier)
            writer.text(msisdn)
            try writer.endRow()
        }
        try writer.commit()
        return count
    }
}
