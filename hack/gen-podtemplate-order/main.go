// Command gen-podtemplate-order writes, as JSON, how Go's encoding/json
// serialises corev1.PodTemplateSpec: for every struct type reachable from it,
// its JSON fields in struct order with their omitempty/omitzero options and
// value types. rollouts/api/podhash.py replays that to reproduce Argo
// Rollouts' pod-template hash byte for byte. Run hack/gen-podtemplate-order.sh.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

type typeRef map[string]any

type field struct {
	Name      string  `json:"name"`
	OmitEmpty bool    `json:"omitempty"`
	OmitZero  bool    `json:"omitzero,omitempty"`
	Type      typeRef `json:"type"`
}

var (
	quantityType    = reflect.TypeOf(resource.Quantity{})
	intOrStringType = reflect.TypeOf(intstr.IntOrString{})
	timeType        = reflect.TypeOf(metav1.Time{})
	microTimeType   = reflect.TypeOf(metav1.MicroTime{})
	structs         = map[string][]field{}
)

func typeName(t reflect.Type) string { return t.PkgPath() + "." + t.Name() }

func describe(t reflect.Type) typeRef {
	switch t {
	case quantityType:
		return typeRef{"kind": "quantity"}
	case intOrStringType:
		return typeRef{"kind": "intorstring"}
	case timeType, microTimeType:
		return typeRef{"kind": "time"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return typeRef{"kind": "ptr", "elem": describe(t.Elem())}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return typeRef{"kind": "bytes"}
		}
		return typeRef{"kind": "slice", "elem": describe(t.Elem())}
	case reflect.Map:
		return typeRef{"kind": "map", "elem": describe(t.Elem())}
	case reflect.Struct:
		name := typeName(t)
		if _, seen := structs[name]; !seen {
			structs[name] = nil // mark before recursing: types can be recursive
			structs[name] = fields(t)
		}
		return typeRef{"kind": "struct", "ref": name}
	case reflect.String:
		return typeRef{"kind": "string"}
	case reflect.Bool:
		return typeRef{"kind": "bool"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return typeRef{"kind": "int"}
	case reflect.Float32, reflect.Float64:
		return typeRef{"kind": "float"}
	case reflect.Interface:
		return typeRef{"kind": "any"}
	}
	panic(fmt.Sprintf("unsupported type %s", t))
}

// fields lists the JSON fields of a struct the way encoding/json does:
// struct order, anonymous untagged structs flattened, "-" skipped.
func fields(t reflect.Type) []field {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		parts := strings.Split(tag, ",")
		name := parts[0]
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				out = append(out, fields(ft)...)
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		entry := field{Name: name, Type: describe(f.Type)}
		for _, option := range parts[1:] {
			switch option {
			case "omitempty":
				entry.OmitEmpty = true
			case "omitzero":
				entry.OmitZero = true
			}
		}
		out = append(out, entry)
	}
	return out
}

func main() {
	root := describe(reflect.TypeOf(corev1.PodTemplateSpec{}))
	names := make([]string, 0, len(structs))
	for name := range structs {
		names = append(names, name)
	}
	sort.Strings(names)
	ordered := make(map[string][]field, len(structs))
	for _, name := range names {
		ordered[name] = structs[name]
	}
	out := map[string]any{"root": root["ref"], "structs": ordered}
	encoder := json.NewEncoder(os.Stdout)
	encoder.SetIndent("", " ")
	if err := encoder.Encode(out); err != nil {
		panic(err)
	}
}
