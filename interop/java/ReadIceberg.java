// Apache Iceberg's Java implementation (the reference the Iceberg spec is tested against, and
// the one Spark, Flink and Trino embed) loads every table of a namespace through a catalog, plans
// every file of the current snapshot (manifest list and manifests, read by Java's Avro readers)
// and prints one JSON line per table. It runs with the classes of the REST catalog fixture jar:
//   java -cp iceberg-open-api-<v>.jar ReadIceberg.java NAMESPACE name=CATALOG_NAME key=value...
// where the key=value pairs are Iceberg catalog properties (catalog-impl, uri, warehouse, io-impl,
// s3.endpoint, ...). Parquet data is not read: the fixture jar carries no Parquet reader; Java's
// FileIO checks that every planned data file exists at the path the manifests give.
import java.util.HashMap;
import java.util.Map;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileContent;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.io.CloseableIterable;

public class ReadIceberg {
  static String names(Table table) {
    StringBuilder b = new StringBuilder("[");
    for (org.apache.iceberg.types.Types.NestedField f : table.schema().columns()) {
      if (b.length() > 1) {
        b.append(',');
      }
      b.append('"');
      for (char c : f.name().toCharArray()) {
        if (c == '"' || c == '\\') {
          b.append('\\').append(c);
        } else if (c < 0x20) {
          b.append(String.format("\\u%04x", (int) c));
        } else {
          b.append(c);
        }
      }
      b.append('"');
    }
    return b.append(']').toString();
  }

  public static void main(String[] args) throws Exception {
    String namespace = args[0];
    Map<String, String> props = new HashMap<>();
    for (int i = 1; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      props.put(args[i].substring(0, eq), args[i].substring(eq + 1));
    }
    String name = props.remove("name");
    Catalog catalog =
        CatalogUtil.buildIcebergCatalog(name, props, new org.apache.hadoop.conf.Configuration());
    for (TableIdentifier id : catalog.listTables(Namespace.of(namespace))) {
      Table table = catalog.loadTable(id);
      long rows = 0, dataFiles = 0, missingFiles = 0, equalityDeletes = 0;
      // Position delete files apply to several data files; each is counted once, with its rows.
      Map<String, Long> positionDeletes = new HashMap<>();
      try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
        for (FileScanTask task : tasks) {
          dataFiles++;
          if (!table.io().newInputFile(task.file().path().toString()).exists()) {
            missingFiles++;
          }
          rows += task.file().recordCount();
          for (DeleteFile d : task.deletes()) {
            if (d.content() == FileContent.POSITION_DELETES) {
              positionDeletes.put(d.path().toString(), d.recordCount());
            } else {
              equalityDeletes++;
            }
          }
        }
      }
      Snapshot snap = table.currentSnapshot();
      int formatVersion = ((HasTableOperations) table).operations().current().formatVersion();
      System.out.printf(
          "{\"table\":\"%s\",\"format_version\":%d,\"columns\":%d,\"identifier_fields\":%d,"
              + "\"snapshots\":%d,\"data_files\":%d,\"delete_files\":%d,\"rows\":%d,"
              + "\"position_deletes\":%d,\"equality_delete_files\":%d,"
              + "\"summary_total_records\":\"%s\",\"summary_position_deletes\":\"%s\","
              + "\"missing_files\":%d,\"column_names\":%s}%n",
          id.name(),
          formatVersion,
          table.schema().columns().size(),
          table.schema().identifierFieldIds().size(),
          table.history().size(),
          dataFiles,
          positionDeletes.size() + equalityDeletes,
          rows,
          positionDeletes.values().stream().mapToLong(Long::longValue).sum(),
          equalityDeletes,
          snap == null ? "" : snap.summary().getOrDefault("total-records", ""),
          snap == null ? "" : snap.summary().getOrDefault("total-position-deletes", "0"),
          missingFiles,
          names(table));
    }
  }
}
