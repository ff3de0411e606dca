-- Runs once, when the compose `postgres` service initialises an empty data
-- volume (docker-entrypoint-initdb.d). One database `chiso`, one schema per
-- service; every service only touches the schema named by its
-- CHISO_DATABASE__SCHEMA. The services may also create their schema on start;
-- IF NOT EXISTS keeps both paths safe.
--
-- The Kubernetes deployment does the same through the CloudNativePG
-- bootstrap.initdb.postInitApplicationSQL list in k8s/base/postgres-cluster.yaml.
CREATE SCHEMA IF NOT EXISTS registry AUTHORIZATION chiso;
CREATE SCHEMA IF NOT EXISTS submission AUTHORIZATION chiso;
CREATE SCHEMA IF NOT EXISTS aggregation AUTHORIZATION chiso;
