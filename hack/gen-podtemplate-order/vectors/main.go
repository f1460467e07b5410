// Command vectors computes Argo Rollouts' pod-template hash with the real Go
// types: for each {template, collisionCount} on stdin it unmarshals a
// corev1.PodTemplateSpec, marshals it back and hashes it exactly as Argo's
// utils/hash.ComputePodTemplateHash does. hack/gen-podhash-vectors.sh uses it
// to produce the test vectors our Python implementation must reproduce.
package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/rand"
)

type input struct {
	Template       json.RawMessage `json:"template"`
	CollisionCount *int32          `json:"collisionCount"`
}

func main() {
	var inputs []input
	if err := json.NewDecoder(os.Stdin).Decode(&inputs); err != nil {
		panic(err)
	}
	out := []map[string]string{}
	for _, in := range inputs {
		var t corev1.PodTemplateSpec
		if err := json.Unmarshal(in.Template, &t); err != nil {
			panic(err)
		}
		h := fnv.New32a()
		b, _ := json.Marshal(&t)
		h.Write(b)
		if in.CollisionCount != nil {
			cb := make([]byte, 8)
			binary.LittleEndian.PutUint32(cb, uint32(*in.CollisionCount))
			h.Write(cb)
		}
		out = append(out, map[string]string{"json": string(b), "hash": rand.SafeEncodeString(fmt.Sprint(h.Sum32()))})
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
