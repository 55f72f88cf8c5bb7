public enum SondaVersion {
    public static let current = "0.1.0"
}
