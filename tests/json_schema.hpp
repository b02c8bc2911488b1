// json_schema.hpp — a small JSON Schema (2020-12, as OpenAPI 3.1 uses it) validator for the
// subset docs/openapi.json uses: type (a name or a list, "integer" = a whole number), enum,
// const, properties, required, additionalProperties (false or a schema), unevaluatedProperties
// (false), minProperties, items, minItems, maxItems, minLength, maxLength, pattern, minimum,
// maximum, exclusiveMinimum, allOf, anyOf, oneOf, true/false schemas and local $refs
// ("#/components/schemas/X"). Keywords it does not know are an error, so the document cannot
// silently use more than the tests check.
#pragma once

#include <cmath>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vllm_mem::testing {

class schema_validator {
 public:
  using json = nlohmann::json;

  explicit schema_validator(const json& document) : doc_(document) {}

  // The value at a local reference ("#/a/b"), or nullptr.
  const json* resolve(const std::string& ref) const {
    if (ref.rfind("#/", 0) != 0) return nullptr;
    try {
      const json::json_pointer ptr(ref.substr(1));
      return doc_.contains(ptr) ? &doc_.at(ptr) : nullptr;
    } catch (const json::exception&) {
      return nullptr;
    }
  }

  // "path: message" for every rule `value` breaks; empty when it is valid.
  std::vector<std::string> validate(const json& schema, const json& value) const {
    std::vector<std::string> errors;
    std::set<std::string> evaluated;
    check(schema, value, "$", errors, evaluated);
    return errors;
  }

 private:
  static bool is_whole(const json& v) {
    if (v.is_number_integer()) return true;
    if (!v.is_number_float()) return false;
    const double x = v.get<double>();
    return std::isfinite(x) && x == std::floor(x);
  }

  static bool has_type(const json& v, const std::string& t) {
    if (t == "object") return v.is_object();
    if (t == "array") return v.is_array();
    if (t == "string") return v.is_string();
    if (t == "boolean") return v.is_boolean();
    if (t == "null") return v.is_null();
    if (t == "number") return v.is_number();
    if (t == "integer") return is_whole(v);
    return false;
  }

  static std::string excerpt(const json& v) {
    std::string s = v.dump();
    return s.size() > 80 ? s.substr(0, 77) + "..." : s;
  }

  // Checks `v` against `s`; `evaluated` collects the property names of `v` (an object) that
  // `s` evaluated, for unevaluatedProperties.
  void check(const json& s, const json& v, const std::string& path, std::vector<std::string>& errs,
             std::set<std::string>& evaluated) const {
    static const std::set<std::string> known = {"$ref",
                                                "type",
                                                "enum",
                                                "const",
                                                "properties",
                                                "required",
                                                "additionalProperties",
                                                "unevaluatedProperties",
                                                "minProperties",
                                                "items",
                                                "minItems",
                                                "maxItems",
                                                "minLength",
                                                "maxLength",
                                                "pattern",
                                                "minimum",
                                                "maximum",
                                                "exclusiveMinimum",
                                                "allOf",
                                                "anyOf",
                                                "oneOf",
                                                "description",
                                                "default",
                                                "examples",
                                                "example",
                                                "title",
                                                "summary"};
    if (s.is_boolean()) {
      if (!s.get<bool>()) errs.push_back(path + ": not allowed");
      return;
    }
    if (!s.is_object()) {
      errs.push_back(path + ": the schema is not an object");
      return;
    }
    for (auto it = s.begin(); it != s.end(); ++it) {
      if (!known.count(it.key())) errs.push_back(path + ": unsupported keyword " + it.key());
    }
    if (s.contains("$ref")) {
      const json* target = resolve(s["$ref"].get<std::string>());
      if (!target) {
        errs.push_back(path + ": unresolved $ref " + s["$ref"].dump());
      } else {
        check(*target, v, path, errs, evaluated);
      }
    }
    if (s.contains("type")) {
      const json& t = s["type"];
      bool ok = false;
      if (t.is_string()) ok = has_type(v, t.get<std::string>());
      for (const auto& one : t.is_array() ? t : json::array()) {
        ok = ok || has_type(v, one.get<std::string>());
      }
      if (!ok) {
        errs.push_back(path + ": " + excerpt(v) + " is not of type " + t.dump());
        return;  // the other keywords would only repeat it
      }
    }
    if (s.contains("enum")) {
      bool found = false;
      for (const auto& e : s["enum"]) found = found || e == v;
      if (!found) errs.push_back(path + ": " + excerpt(v) + " is not one of " + s["enum"].dump());
    }
    if (s.contains("const") && s["const"] != v) {
      errs.push_back(path + ": " + excerpt(v) + " is not " + s["const"].dump());
    }
    if (v.is_number()) {
      const double x = v.get<double>();
      if (s.contains("minimum") && x < s["minimum"].get<double>())
        errs.push_back(path + ": " + v.dump() + " < minimum " + s["minimum"].dump());
      if (s.contains("maximum") && x > s["maximum"].get<double>())
        errs.push_back(path + ": " + v.dump() + " > maximum " + s["maximum"].dump());
      if (s.contains("exclusiveMinimum") && x <= s["exclusiveMinimum"].get<double>())
        errs.push_back(path + ": " + v.dump() + " <= exclusiveMinimum " +
                       s["exclusiveMinimum"].dump());
    }
    if (v.is_string()) {
      const auto& str = v.get_ref<const std::string&>();
      if (s.contains("minLength") && str.size() < s["minLength"].get<std::size_t>())
        errs.push_back(path + ": shorter than minLength");
      if (s.contains("maxLength") && str.size() > s["maxLength"].get<std::size_t>())
        errs.push_back(path + ": longer than maxLength");
      if (s.contains("pattern") &&
          !std::regex_search(str, std::regex(s["pattern"].get<std::string>())))
        errs.push_back(path + ": " + excerpt(v) + " does not match " + s["pattern"].dump());
    }
    if (v.is_array()) {
      if (s.contains("minItems") && v.size() < s["minItems"].get<std::size_t>())
        errs.push_back(path + ": fewer than minItems");
      if (s.contains("maxItems") && v.size() > s["maxItems"].get<std::size_t>())
        errs.push_back(path + ": more than maxItems");
      if (s.contains("items")) {
        for (std::size_t i = 0; i < v.size(); ++i) {
          std::set<std::string> inner;
          check(s["items"], v[i], path + "[" + std::to_string(i) + "]", errs, inner);
        }
      }
    }
    if (v.is_object()) {
      for (const auto& r : s.contains("required") ? s["required"] : json::array()) {
        if (!v.contains(r.get<std::string>()))
          errs.push_back(path + ": missing required property " + r.dump());
      }
      if (s.contains("minProperties") && v.size() < s["minProperties"].get<std::size_t>())
        errs.push_back(path + ": fewer than minProperties");
      const json props = s.contains("properties") ? s["properties"] : json::object();
      for (auto it = v.begin(); it != v.end(); ++it) {
        const std::string child = path + "." + it.key();
        if (props.contains(it.key())) {
          std::set<std::string> inner;
          check(props[it.key()], it.value(), child, errs, inner);
          evaluated.insert(it.key());
        } else if (s.contains("additionalProperties")) {
          std::set<std::string> inner;
          check(s["additionalProperties"], it.value(), child, errs, inner);
          evaluated.insert(it.key());
        }
      }
    }
    if (s.contains("allOf")) {
      for (const auto& sub : s["allOf"]) check(sub, v, path, errs, evaluated);
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      if (!s.contains(key)) continue;
      int passed = 0;
      std::vector<std::string> why;
      for (const auto& sub : s[key]) {
        std::vector<std::string> sub_errs;
        std::set<std::string> sub_eval;
        check(sub, v, path, sub_errs, sub_eval);
        if (sub_errs.empty()) {
          ++passed;
          evaluated.insert(sub_eval.begin(), sub_eval.end());
        } else {
          why.push_back(sub_errs.front());
        }
      }
      const bool ok = std::string(key) == "anyOf" ? passed >= 1 : passed == 1;
      if (!ok) {
        std::string msg = path + ": " + std::to_string(passed) + " branches of " + key + " match";
        for (const auto& w : why) msg += " [" + w + "]";
        errs.push_back(msg);
      }
    }
    if (v.is_object() && s.contains("unevaluatedProperties")) {
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (evaluated.count(it.key())) continue;
        std::set<std::string> inner;
        check(s["unevaluatedProperties"], it.value(), path + "." + it.key(), errs, inner);
        evaluated.insert(it.key());
      }
    }
  }

  const json& doc_;
};

}  // namespace vllm_mem::testing
