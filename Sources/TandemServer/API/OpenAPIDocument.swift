/// The OpenAPI 3.1 document of the API, served at `/api/openapi.json`.
public enum OpenAPIDocument {
    public static let json = "{}"
}
