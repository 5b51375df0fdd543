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
