-- A collection's field mapping may name the repository field's type when it differs from the model field's
-- (e.g. a plain-text description into a rich-text model field); conversions are checked against it.
ALTER TABLE collection_field_mappings ADD COLUMN repository_type text;
