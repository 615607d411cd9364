/// The value of the first sample of `name` in Prometheus text whose labels include all of `labels`.
public func prometheusSample(_ text: String, _ name: String, _ labels: [String] = []) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
        guard labels.allSatisfy({ line.contains($0) }), let value = line.split(separator: " ").last else { continue }
        return Double(value)
    }
    return nil
}
