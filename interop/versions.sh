# Pinned versions of the Java peer, shared by setup.sh and run.sh.
#
# The Apache Iceberg REST catalog test fixture is published on Maven Central as the MAIN jar of
# org.apache.iceberg:iceberg-open-api (a ~200 MB shaded jar with Main-Class
# org.apache.iceberg.rest.RESTCatalogServer); the "test-fixtures" classifier holds only the five
# fixture classes and no "test-fixtures-runtime" classifier or artifact exists (both refused by
# Central when asked, 2026-11-27).
REST_FIXTURE_VERSION=1.10.0
REST_FIXTURE_GAV="org.apache.iceberg:iceberg-open-api:${REST_FIXTURE_VERSION}"

rest_fixture_jar() {
  local repo="${MAVEN_LOCAL_REPO:-$HOME/.m2/repository}"
  echo "$repo/org/apache/iceberg/iceberg-open-api/${REST_FIXTURE_VERSION}/iceberg-open-api-${REST_FIXTURE_VERSION}.jar"
}

# Storage emulators of part 8 (setup-gcs-azure.sh installs them into interop/.tools).
# Azurite 3.36 and later ask for Node >= 21; 3.35.0 runs on Debian's Node 20.
FAKE_GCS_SERVER_VERSION=v1.56.1
AZURITE_VERSION=3.35.0
# Apache Spark's Iceberg runtime and the SQLite JDBC driver its JdbcCatalog needs (part 9); pyspark
# itself is pinned in requirements.txt.
SPARK_JARS_GAV="org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:1.10.0 org.xerial:sqlite-jdbc:3.50.3.0"

maven_jar() {  # GROUP:ARTIFACT:VERSION -> path in the local repository
  local g a v repo="${MAVEN_LOCAL_REPO:-$HOME/.m2/repository}"
  IFS=: read -r g a v <<<"$1"
  echo "$repo/${g//.//}/$a/$v/$a-$v.jar"
}
