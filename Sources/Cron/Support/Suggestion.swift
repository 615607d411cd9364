/// "Did you mean" hints: the closest candidate by edit distance, if it is close enough.
public enum Suggestion {
    /// The candidate nearest `word` (case-insensitive, `-` read as `_`): by Levenshtein
    /// distance at most a third of its length (and at least 1); else the shortest candidate that
    /// contains it or that it contains (`window` → `catchup_window`, `Berlin` →
    /// `Europe/Berlin`; at least 3 characters); or nil.
    public static func closest(to word: String, among candidates: [String]) -> String? {
        func normal(_ text: String) -> String { text.lowercased().replacingOccurrences(of: "-", with: "_") }
        let word = normal(word)
        let target = Array(word.unicodeScalars)
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(target, Array(normal(candidate).unicodeScalars))
            if distance < (best?.distance ?? .max) { best = (candidate, distance) }
        }
        if let best, best.distance <= max(1, target.count / 3) { return best.candidate }
        guard word.count >= 3 else { return nil }
        return candidates.filter { normal($0).contains(word) || (word.contains(normal($0)) && $0.count >= 3) }
            .min { ($0.count, $0) < ($1.count, $1) }
    }

    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
