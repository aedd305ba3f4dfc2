import VirtBase

// The security plan's hand-written JSON form, part of the configuration every start hands down (see
// `JSONCodable`). Members carry the property names, as Codable's form of the same types does.

extension HypervisorSecurityPlan: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        labels = try json.required("labels")
        files = try json.required("files")
        credentials = try json.required("credentials")
        seccompDenied = try json.required("seccompDenied")
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("labels", labels)
        writer.member("files", files)
        writer.member("credentials", credentials)
        writer.member("seccompDenied", seccompDenied)
        writer.endObject()
    }
}

extension DomainSecurityLabels: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        labels = try json.required("labels")
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("labels", labels)
        writer.endObject()
    }
}

extension DomainSecurityLabel: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        model = try json.required("model")
        doi = try json.required("doi")
        type = try json.required("type")
        relabel = try json.required("relabel")
        label = try json.optional("label")
        imageLabel = try json.optional("imageLabel")
        baseLabel = try json.optional("baseLabel")
        categories = try json.optional("categories")
        enforcement = try json.required("enforcement")
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("model", model)
        writer.member("doi", doi)
        writer.member("type", type)
        writer.member("relabel", relabel)
        writer.member("label", ifPresent: label)
        writer.member("imageLabel", ifPresent: imageLabel)
        writer.member("baseLabel", ifPresent: baseLabel)
        writer.member("categories", ifPresent: categories)
        writer.member("enforcement", enforcement)
        writer.endObject()
    }
}

extension SecurityLabelType: JSONCodable {}
extension LabelEnforcement: JSONCodable {}

extension MCSCategoryPair: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        low = try json.required("low")
        high = try json.required("high")
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("low", low)
        writer.member("high", high)
        writer.endObject()
    }
}

extension ModelFileLabels: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        model = try json.required("model")
        remember = try json.required("remember")
        actions = try json.required("actions")
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("model", model)
        writer.member("remember", remember)
        writer.member("actions", actions)
        writer.endObject()
    }
}

extension FileLabelAction: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        path = try json.required("path")
        label = try json.required("label")
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("path", path)
        writer.member("label", label)
        writer.endObject()
    }
}

extension HypervisorCredentials: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        execLabel = try json.optional("execLabel")
        execLabelPath = try json.required("execLabelPath")
        execLabelRequired = try json.required("execLabelRequired")
        identity = try json.optional("identity")
        dropBoundingSetThrough = try json.optional("dropBoundingSetThrough")
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("execLabel", ifPresent: execLabel)
        writer.member("execLabelPath", execLabelPath)
        writer.member("execLabelRequired", execLabelRequired)
        writer.member("identity", ifPresent: identity)
        writer.member("dropBoundingSetThrough", ifPresent: dropBoundingSetThrough)
        writer.endObject()
    }
}

extension DACIdentity: JSONCodable {
    public init(json: JSONField) throws(JSONShapeError) {
        uid = try json.required("uid")
        gid = try json.required("gid")
        groups = try json.required("groups")
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.member("uid", uid)
        writer.member("gid", gid)
        writer.member("groups", groups)
        writer.endObject()
    }
}
