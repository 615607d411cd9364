/// Warren's release version, one definition for `warren --version`, packages and anything a
/// process reports about itself.
public enum WarrenVersion {
    /// The version number (semantic versioning).
    public static let number = "0.21.0"
}
