package destination

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/iceberg-go"
)

// partitionField is one parsed entry of a stream's partitioning: a transform of a (possibly nested)
// field, written as in Spark SQL: month(timeInterval.start), bucket(16, id), truncate(4, name),
// identity(x) or just x.
type partitionField struct {
	transform iceberg.Transform
	path      []string
}

func (p partitionField) String() string {
	return p.transform.String() + "(" + strings.Join(p.path, ".") + ")"
}

// parsePartitioning reads the partitioning of one stream from the destination config.
func parsePartitioning(exprs []string) ([]partitionField, error) {
	out := make([]partitionField, 0, len(exprs))
	for _, e := range exprs {
		f, err := parsePartitionField(e)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func parsePartitionField(expr string) (partitionField, error) {
	s := strings.TrimSpace(expr)
	name, args, call := strings.Cut(s, "(")
	if !call {
		if s == "" {
			return partitionField{}, fmt.Errorf("empty partition field")
		}
		return partitionField{transform: iceberg.IdentityTransform{}, path: strings.Split(s, ".")}, nil
	}
	if !strings.HasSuffix(args, ")") {
		return partitionField{}, fmt.Errorf("partition field %q: missing closing parenthesis", expr)
	}
	parts := strings.Split(strings.TrimSuffix(args, ")"), ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	name = strings.ToLower(strings.TrimSpace(name))
	// Spark's plural spellings (months(ts)) are accepted too.
	name = strings.TrimSuffix(name, "s")
	var t iceberg.Transform
	switch name {
	case "identity", "year", "month", "day", "hour":
		if len(parts) != 1 {
			return partitionField{}, fmt.Errorf("partition field %q: %s takes one field", expr, name)
		}
		tr, err := iceberg.ParseTransform(name)
		if err != nil {
			return partitionField{}, fmt.Errorf("partition field %q: %w", expr, err)
		}
		t = tr
	case "bucket", "truncate":
		if len(parts) != 2 {
			return partitionField{}, fmt.Errorf("partition field %q: %s takes a number and a field, e.g. %s(16, id)", expr, name, name)
		}
		n, err := strconv.Atoi(parts[0])
		if err != nil || n <= 0 {
			return partitionField{}, fmt.Errorf("partition field %q: %s needs a positive number first, not %q", expr, name, parts[0])
		}
		tr, err := iceberg.ParseTransform(fmt.Sprintf("%s[%d]", name, n))
		if err != nil {
			return partitionField{}, fmt.Errorf("partition field %q: %w", expr, err)
		}
		t, parts = tr, parts[1:]
	default:
		return partitionField{}, fmt.Errorf("partition field %q: unknown transform %q (identity, year, month, day, hour, bucket, truncate)", expr, name)
	}
	if parts[0] == "" {
		return partitionField{}, fmt.Errorf("partition field %q: no field", expr)
	}
	return partitionField{transform: t, path: strings.Split(parts[0], ".")}, nil
}

// partitionSpec binds the fields to a table schema: each path must name a primitive field the
// transform accepts.
func partitionSpec(sch *iceberg.Schema, fields []partitionField) (iceberg.PartitionSpec, error) {
	if len(fields) == 0 {
		return *iceberg.UnpartitionedSpec, nil
	}
	pf := make([]iceberg.PartitionField, 0, len(fields))
	names := map[string]bool{}
	for i, f := range fields {
		nf, ok := sch.FindFieldByName(strings.Join(f.path, "."))
		if !ok {
			return iceberg.PartitionSpec{}, fmt.Errorf("partition field %s: no column %s", f, strings.Join(f.path, "."))
		}
		if _, prim := nf.Type.(iceberg.PrimitiveType); !prim || !f.transform.CanTransform(nf.Type) {
			return iceberg.PartitionSpec{}, fmt.Errorf("partition field %s: column %s of type %s cannot be partitioned by %s", f, strings.Join(f.path, "."), nf.Type, f.transform)
		}
		name := strings.Join(f.path, "_")
		if _, id := f.transform.(iceberg.IdentityTransform); !id {
			name += "_" + strings.SplitN(f.transform.String(), "[", 2)[0]
		}
		for names[name] {
			name += "_" + strconv.Itoa(i)
		}
		names[name] = true
		pf = append(pf, iceberg.PartitionField{SourceIDs: []int{nf.ID}, FieldID: 1000 + i, Name: name, Transform: f.transform})
	}
	return iceberg.NewPartitionSpec(pf...), nil
}

// samePartitioning reports whether spec partitions by exactly fields (same sources and transforms).
func samePartitioning(spec iceberg.PartitionSpec, sch *iceberg.Schema, fields []partitionField) bool {
	if spec.NumFields() != len(fields) {
		return false
	}
	i := 0
	for _, pf := range spec.Fields() {
		f := fields[i]
		i++
		nf, ok := sch.FindFieldByName(strings.Join(f.path, "."))
		if !ok || !slices.Equal(pf.SourceIDs, []int{nf.ID}) || !pf.Transform.Equals(f.transform) {
			return false
		}
	}
	return true
}
