package fakestack

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// demoEpoch is when the demo project was created; row data spans 2025.
var demoEpoch = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)

// demoSeed makes the generated rows identical on every run.
const demoSeed = 20250106

type colSpec struct {
	name     string
	typ      string // Keboola type
	desc     string
	nullable bool
}

type tableSpec struct {
	bucket string
	name   string
	desc   string
	pk     []string
	cols   []colSpec
	// rows generates the data; nil for tables computed with SQL (fill).
	rows func(*demoGen) [][]any
	// fill is an INSERT … SELECT over already loaded tables.
	fill string
}

type bucketSpec struct{ id, displayName, desc string }

var demoBuckets = []bucketSpec{
	{"in.c-crm", "crm", "Customers and orders extracted nightly from the CRM MySQL database."},
	{"in.c-erp", "erp", "Product catalogue and warehouse stock from the ERP export on S3."},
	{"in.c-web", "web", "Website sessions and marketing campaigns from the web analytics API."},
	{"out.c-reports", "reports", "Revenue reports built by the 'Revenue reports' Snowflake transformation."},
}

// demoTables load in order: orders need products, sessions need customers,
// the out tables need the in tables.
var demoTables = []tableSpec{
	{bucket: "in.c-crm", name: "customers", desc: "One row per customer account, with segment and country.", pk: []string{"customer_id"},
		cols: []colSpec{
			{"customer_id", "INTEGER", "Customer account id.", false},
			{"name", "VARCHAR", "Company name.", false},
			{"email", "VARCHAR", "Billing contact e-mail.", false},
			{"country", "VARCHAR", "ISO 3166-1 alpha-2 country code.", false},
			{"segment", "VARCHAR", "SMB, Mid-Market or Enterprise.", false},
			{"signup_date", "DATE", "Day the account was created.", false},
			{"is_active", "BOOLEAN", "Whether the account currently has a subscription.", false},
		}, rows: (*demoGen).customers},
	{bucket: "in.c-erp", name: "products", desc: "Product catalogue with list prices.", pk: []string{"sku"},
		cols: []colSpec{
			{"sku", "VARCHAR", "Stock keeping unit.", false},
			{"name", "VARCHAR", "Product name.", false},
			{"category", "VARCHAR", "Product category.", false},
			{"unit_price_usd", "NUMERIC", "List price in US dollars.", false},
			{"launched_on", "DATE", "Day the product went on sale.", false},
		}, rows: (*demoGen).products},
	{bucket: "in.c-erp", name: "inventory", desc: "Units on hand per product and warehouse.", pk: []string{"sku", "warehouse"},
		cols: []colSpec{
			{"sku", "VARCHAR", "Product (products.sku).", false},
			{"warehouse", "VARCHAR", "Warehouse code.", false},
			{"quantity_on_hand", "INTEGER", "Units in stock.", false},
			{"updated_at", "TIMESTAMP", "When the stock level was counted.", false},
		}, rows: (*demoGen).inventory},
	{bucket: "in.c-crm", name: "orders", desc: "Orders placed by customers; status completed, refunded or pending.", pk: []string{"order_id"},
		cols: []colSpec{
			{"order_id", "INTEGER", "Order id.", false},
			{"customer_id", "INTEGER", "Customer who placed the order (customers.customer_id).", false},
			{"sku", "VARCHAR", "Ordered product (products.sku).", false},
			{"order_date", "DATE", "Day the order was placed.", false},
			{"status", "VARCHAR", "completed, refunded or pending.", false},
			{"quantity", "INTEGER", "Units ordered.", false},
			{"total_usd", "NUMERIC", "Order total in US dollars.", false},
		}, rows: (*demoGen).orders},
	{bucket: "in.c-web", name: "sessions", desc: "Website sessions; customer_id is empty for anonymous visitors.", pk: []string{"session_id"},
		cols: []colSpec{
			{"session_id", "VARCHAR", "Session id.", false},
			{"customer_id", "INTEGER", "Signed-in customer, if any.", true},
			{"started_at", "TIMESTAMP", "Session start (UTC).", false},
			{"device", "VARCHAR", "desktop, mobile or tablet.", false},
			{"channel", "VARCHAR", "Acquisition channel.", false},
			{"country", "VARCHAR", "Visitor country code.", false},
			{"page_views", "INTEGER", "Pages viewed in the session.", false},
			{"duration_seconds", "INTEGER", "Session length in seconds.", false},
			{"converted", "BOOLEAN", "Whether the session ended with an order.", false},
		}, rows: (*demoGen).sessions},
	{bucket: "in.c-web", name: "campaigns", desc: "Marketing campaigns and their budgets.", pk: []string{"campaign_id"},
		cols: []colSpec{
			{"campaign_id", "INTEGER", "Campaign id.", false},
			{"name", "VARCHAR", "Campaign name.", false},
			{"channel", "VARCHAR", "Channel the campaign runs in.", false},
			{"start_date", "DATE", "First day.", false},
			{"end_date", "DATE", "Last day.", false},
			{"budget_usd", "NUMERIC", "Budget in US dollars.", false},
			{"targeting", "VARCHAR", "Targeting rules as JSON text: audience (segment, minPageViews), countries and devices.", false},
		}, rows: (*demoGen).campaigns},
	{bucket: "out.c-reports", name: "daily_revenue", desc: "Completed orders and revenue per day.", pk: []string{"date"},
		cols: []colSpec{
			{"date", "DATE", "Order day.", false},
			{"orders", "INTEGER", "Completed orders that day.", false},
			{"revenue_usd", "NUMERIC", "Revenue of completed orders in US dollars.", false},
		}, fill: `INSERT INTO "out.c-reports"."daily_revenue"
			SELECT "order_date", COUNT(*), ROUND(SUM("total_usd"), 2) FROM "in.c-crm"."orders"
			WHERE "status" = 'completed' GROUP BY "order_date" ORDER BY "order_date"`},
	{bucket: "out.c-reports", name: "customer_ltv", desc: "Lifetime value per customer from completed orders.", pk: []string{"customer_id"},
		cols: []colSpec{
			{"customer_id", "INTEGER", "Customer account id.", false},
			{"name", "VARCHAR", "Company name.", false},
			{"segment", "VARCHAR", "Customer segment.", false},
			{"orders", "INTEGER", "Completed orders.", false},
			{"lifetime_value_usd", "NUMERIC", "Sum of completed order totals in US dollars.", false},
			{"first_order", "DATE", "Day of the first completed order.", false},
			{"last_order", "DATE", "Day of the latest completed order.", false},
		}, fill: `INSERT INTO "out.c-reports"."customer_ltv"
			SELECT c."customer_id", c."name", c."segment", COUNT(*), ROUND(SUM(o."total_usd"), 2), MIN(o."order_date"), MAX(o."order_date")
			FROM "in.c-crm"."customers" c JOIN "in.c-crm"."orders" o ON o."customer_id" = c."customer_id"
			WHERE o."status" = 'completed' GROUP BY c."customer_id", c."name", c."segment" ORDER BY c."customer_id"`},
}

// sharedBucketSpec is the bucket the organisation's other project shares.
var sharedBucketSpec = bucketSpec{"out.c-industry-benchmarks", "industry-benchmarks",
	"Retail industry benchmarks curated by the Marketing Hub project, shared with the whole organisation."}

var sharedTables = []tableSpec{
	{bucket: sharedBucketSpec.id, name: "conversion_benchmarks", desc: "Median and quartile conversion rates per channel and device.", pk: []string{"channel", "device"},
		cols: []colSpec{
			{"channel", "VARCHAR", "Acquisition channel.", false},
			{"device", "VARCHAR", "desktop, mobile or tablet.", false},
			{"conversion_rate_p25", "NUMERIC", "25th percentile conversion rate (percent).", false},
			{"conversion_rate_median", "NUMERIC", "Median conversion rate (percent).", false},
			{"conversion_rate_p75", "NUMERIC", "75th percentile conversion rate (percent).", false},
		}, rows: (*demoGen).benchmarks},
}

// transformationSQL is the demo transformation's code; it produces the two
// out.c-reports tables (the demo template computes the same rows with SQL).
var transformationSQL = []string{
	`CREATE OR REPLACE TABLE "daily_revenue" AS
SELECT "order_date" AS "date", COUNT(*) AS "orders", ROUND(SUM("total_usd"), 2) AS "revenue_usd"
FROM "orders"
WHERE "status" = 'completed'
GROUP BY "order_date";`,
	`CREATE OR REPLACE TABLE "customer_ltv" AS
SELECT c."customer_id", c."name", c."segment", COUNT(*) AS "orders",
       ROUND(SUM(o."total_usd"), 2) AS "lifetime_value_usd",
       MIN(o."order_date") AS "first_order", MAX(o."order_date") AS "last_order"
FROM "customers" c
JOIN "orders" o ON o."customer_id" = c."customer_id"
WHERE o."status" = 'completed'
GROUP BY c."customer_id", c."name", c."segment";`,
}

// bigQueryTransformationSQL is the same code in GoogleSQL, for the demo
// on a BigQuery project (input tables unqualified, names in backticks).
var bigQueryTransformationSQL = []string{
	"CREATE OR REPLACE TABLE `daily_revenue` AS\n" +
		"SELECT `order_date` AS `date`, COUNT(*) AS `orders`, ROUND(SUM(`total_usd`), 2) AS `revenue_usd`\n" +
		"FROM `orders`\nWHERE `status` = 'completed'\nGROUP BY `order_date`;",
	"CREATE OR REPLACE TABLE `customer_ltv` AS\n" +
		"SELECT c.`customer_id`, c.`name`, c.`segment`, COUNT(*) AS `orders`,\n" +
		"       ROUND(SUM(o.`total_usd`), 2) AS `lifetime_value_usd`,\n" +
		"       MIN(o.`order_date`) AS `first_order`, MAX(o.`order_date`) AS `last_order`\n" +
		"FROM `customers` c\nJOIN `orders` o ON o.`customer_id` = c.`customer_id`\n" +
		"WHERE o.`status` = 'completed'\nGROUP BY c.`customer_id`, c.`name`, c.`segment`;",
}

// demoTransformationSQL is the demo transformation's code in the project's dialect.
func (s *Stack) demoTransformationSQL() []string {
	if s.opts.Backend == "bigquery" {
		return bigQueryTransformationSQL
	}
	return transformationSQL
}

// demoGen generates related rows from one seeded PRNG.
type demoGen struct {
	r          *rand.Rand
	nCustomers int
	skus       []string
	prices     []float64
}

var (
	countries = []string{"US", "US", "US", "GB", "DE", "CZ", "FR", "CA", "NL", "AU"}
	segments  = []string{"SMB", "SMB", "SMB", "Mid-Market", "Mid-Market", "Enterprise"}
	nameA     = []string{"Blue", "North", "Bright", "Silver", "Rapid", "Green", "Urban", "Prime", "Atlas", "Cedar", "Summit", "Harbor"}
	nameB     = []string{"Logistics", "Foods", "Analytics", "Retail", "Labs", "Systems", "Outdoor", "Health", "Media", "Motors", "Textiles", "Energy"}
	nameC     = []string{"Inc.", "Ltd.", "GmbH", "s.r.o.", "LLC", "Co."}
	devices   = []string{"desktop", "desktop", "mobile", "mobile", "mobile", "tablet"}
	channels  = []string{"organic", "organic", "paid_search", "social", "email", "referral", "direct"}
	year      = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
)

func (g *demoGen) day(maxDays int) time.Time { return year.AddDate(0, 0, g.r.IntN(maxDays)) }

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func (g *demoGen) customers() [][]any {
	g.nCustomers = 400
	rows := make([][]any, 0, g.nCustomers)
	for i := 1; i <= g.nCustomers; i++ {
		name := fmt.Sprintf("%s %s %s", pick(g.r, nameA), pick(g.r, nameB), pick(g.r, nameC))
		slug := strings.ToLower(strings.NewReplacer(" ", "", ".", "").Replace(name))
		rows = append(rows, []any{i, name, fmt.Sprintf("billing@%s%d.example.com", slug, i), pick(g.r, countries),
			pick(g.r, segments), g.day(300).Format(time.DateOnly), boolText(g.r.IntN(10) < 8)})
	}
	return rows
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func (g *demoGen) products() [][]any {
	cats := map[string][]string{
		"Furniture":   {"Standing Desk", "Ergonomic Chair", "Monitor Arm", "Bookshelf", "Filing Cabinet"},
		"Electronics": {"USB-C Dock", "Noise-Cancelling Headset", "4K Monitor", "Webcam", "Wireless Keyboard", "Laser Printer"},
		"Supplies":    {"Notebook Pack", "Gel Pens (12)", "Desk Organizer", "Whiteboard Markers", "Paper Ream"},
		"Software":    {"Design Suite Licence", "Backup Service (1y)", "VPN Seat (1y)", "Office Suite Licence"},
	}
	var rows [][]any
	n := 0
	for _, cat := range []string{"Furniture", "Electronics", "Supplies", "Software"} {
		for _, item := range cats[cat] {
			for _, variant := range []string{"Standard", "Pro", "Max"} {
				n++
				sku := fmt.Sprintf("SKU-%04d", 1000+n)
				price := float64(5+g.r.IntN(600)) + float64(g.r.IntN(100))/100
				g.skus = append(g.skus, sku)
				g.prices = append(g.prices, price)
				rows = append(rows, []any{sku, item + " " + variant, cat, price, g.day(200).Format(time.DateOnly)})
			}
		}
	}
	return rows
}

func (g *demoGen) inventory() [][]any {
	var rows [][]any
	for _, sku := range g.skus {
		for _, wh := range []string{"PRG-1", "BER-2", "NYC-1"} {
			at := year.AddDate(0, 9, 0).Add(time.Duration(g.r.IntN(30*24)) * time.Hour)
			rows = append(rows, []any{sku, wh, g.r.IntN(500), at.Format(time.DateTime)})
		}
	}
	return rows
}

func (g *demoGen) orders() [][]any {
	rows := make([][]any, 0, 2500)
	for i := 1; i <= 2500; i++ {
		p := g.r.IntN(len(g.skus))
		qty := 1 + g.r.IntN(5)
		status := "completed"
		switch x := g.r.IntN(100); {
		case x < 6:
			status = "refunded"
		case x < 10:
			status = "pending"
		}
		total := float64(int(g.prices[p]*float64(qty)*100+0.5)) / 100
		rows = append(rows, []any{100000 + i, 1 + g.r.IntN(g.nCustomers), g.skus[p], g.day(304).Format(time.DateOnly), status, qty, total})
	}
	return rows
}

func (g *demoGen) sessions() [][]any {
	const n = 12000
	rows := make([][]any, 0, n)
	for i := 1; i <= n; i++ {
		var cust any
		if g.r.IntN(3) == 0 {
			cust = 1 + g.r.IntN(g.nCustomers)
		}
		start := year.Add(time.Duration(g.r.IntN(304*24*3600)) * time.Second)
		pages := 1 + g.r.IntN(12)
		rows = append(rows, []any{fmt.Sprintf("s-%08x", g.r.Uint32()), cust, start.Format(time.DateTime), pick(g.r, devices),
			pick(g.r, channels), pick(g.r, countries), pages, pages * (10 + g.r.IntN(90)), boolText(g.r.IntN(100) < 4)})
	}
	return rows
}

func (g *demoGen) benchmarks() [][]any {
	var rows [][]any
	for _, ch := range channels[1:] {
		for _, dev := range []string{"desktop", "mobile", "tablet"} {
			med := 1 + float64(g.r.IntN(400))/100
			rows = append(rows, []any{ch, dev, med * 0.6, med, med * 1.5})
		}
	}
	return rows
}

func (g *demoGen) campaigns() [][]any {
	names := []string{"Spring Sale", "Back to Office", "Black Friday", "Holiday Gifts", "New Year Reset", "Summer Clearance",
		"Webinar Series", "Partner Launch", "Brand Awareness", "Retargeting Q3", "Enterprise ABM", "Referral Boost"}
	rows := make([][]any, 0, len(names))
	for i, n := range names {
		start := year.AddDate(0, i*25/30, (i*25)%30)
		rows = append(rows, []any{i + 1, n, pick(g.r, channels[2:]), start.Format(time.DateOnly),
			start.AddDate(0, 0, 14+g.r.IntN(30)).Format(time.DateOnly), float64(2000 + 500*g.r.IntN(40)), campaignTargeting(i)})
	}
	return rows
}

// campaignTargeting is a campaign's targeting as the ad platform exports it:
// JSON in a text column (Storage has no VARIANT type), which queries read
// with PARSE_JSON and FLATTEN. It is derived from the campaign's position,
// not drawn, so the random data of the other tables stays as it was; one
// campaign targets no devices (an empty array).
func campaignTargeting(i int) string {
	markets := []string{"US", "GB", "DE", "CZ", "FR", "CA", "NL", "AU"}
	var where []string
	for k := range 1 + i%3 {
		where = append(where, markets[(i+k)%len(markets)])
	}
	devices := [][]string{{"desktop", "mobile"}, {"mobile"}, {"desktop", "mobile", "tablet"}, {}}[i%4]
	text, _ := json.Marshal(map[string]any{ // maps and strings always marshal
		"audience":  map[string]any{"segment": []string{"SMB", "Mid-Market", "Enterprise"}[i%3], "minPageViews": 1 + i%4},
		"countries": where,
		"devices":   devices,
	})
	return string(text)
}

// tableStats are the measured size of a seeded demo table.
type tableStats struct {
	rows int
	size int64
}

// demoTemplate is the process's template database holding the demo
// tables, loaded on first use; stacks copy it (seedDemoDatabase).
var demoTemplate = sync.OnceValues(func() (map[string]tableStats, error) {
	ctx := context.Background()
	db, err := attachDatabase("demo_template", false)
	if err != nil {
		return nil, err
	}
	defer db.DB.Close() // the pool only; the database stays for the process
	for _, bs := range append(demoBuckets[:len(demoBuckets):len(demoBuckets)], sharedBucketSpec) {
		if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+quoteIdent(bs.id)); err != nil {
			return nil, err
		}
	}
	g := &demoGen{r: rand.New(rand.NewPCG(demoSeed, demoSeed))}
	stats := map[string]tableStats{}
	for _, ts := range demoTableSpecs() {
		var rows [][]any
		if ts.rows != nil {
			rows = ts.rows(g)
		}
		st, err := loadTable(ctx, db, ts, rows)
		if err != nil {
			return nil, fmt.Errorf("table %s.%s: %w", ts.bucket, ts.name, err)
		}
		stats[ts.bucket+"."+ts.name] = st
	}
	return stats, nil
})

// demoTableSpecs are the project's demo tables and the shared project's.
func demoTableSpecs() []tableSpec {
	return append(demoTables[:len(demoTables):len(demoTables)], sharedTables...)
}

// seedDemoDatabase opens a stack's database holding a copy of the demo
// tables with their Snowflake types (NUMERIC as DECIMAL(12,2), dates as DATE).
func seedDemoDatabase() (*stackDB, map[string]tableStats, error) {
	stats, err := demoTemplate()
	if err != nil {
		return nil, nil, err
	}
	db, err := openDB()
	if err != nil {
		return nil, nil, err
	}
	ctx := context.Background()
	for _, bs := range append(demoBuckets[:len(demoBuckets):len(demoBuckets)], sharedBucketSpec) {
		if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+quoteIdent(bs.id)); err != nil {
			db.Close()
			return nil, nil, err
		}
	}
	for _, ts := range demoTableSpecs() {
		target := quoteIdent(ts.bucket) + "." + quoteIdent(ts.name)
		if _, err := db.ExecContext(ctx, fmt.Sprintf("CREATE TABLE %s AS SELECT * FROM demo_template.%s", target, target)); err != nil {
			db.Close()
			return nil, nil, err
		}
	}
	return db, stats, nil
}

// seedDemo builds the demo project's state over the seeded rows: buckets,
// tables, components, configurations, job history with events, a read-only
// workspace and the project description.
func seedDemo(s *Stack, stats map[string]tableStats) {
	st := s.state
	master := st.tokens[s.opts.MasterToken]
	st.branchMeta = st.setMetadata(nil, "user", "KBC.projectDescription",
		"Demo retail analytics project: CRM, ERP and web data flow into daily revenue and customer lifetime value reports, "+
			"refreshed nightly by the 'Daily revenue pipeline' flow and shared with finance in Google Sheets.")
	for i, bs := range demoBuckets {
		stage, name, _ := strings.Cut(bs.id, ".")
		b := &bucket{id: bs.id, stage: stage, name: name, displayName: bs.displayName, created: demoEpoch.Add(time.Duration(i) * time.Hour)}
		b.metadata = []*metadata{{id: fmt.Sprint(st.nextID()), key: "KBC.description", value: bs.desc, provider: "user", timestamp: b.created}}
		st.buckets = append(st.buckets, b)
		st.bucketsByID[b.id] = b
	}
	for i, ts := range demoTables {
		created := demoEpoch.Add(time.Duration(i+1) * 2 * time.Hour)
		t := newDemoTable(st, ts, st.bucketsByID[ts.bucket], created, s.now().Add(-time.Duration(len(demoTables)-i)*time.Hour))
		t.rowsCount, t.dataSize = stats[t.id].rows, stats[t.id].size
		if ts.bucket == "in.c-web" { // leave one bucket without column descriptions: columnMetadata is then []
			t.colMeta = nil
		}
		st.tables[t.id] = t
		t.bucket.tables = append(t.bucket.tables, t)
	}
	seedSharedBuckets(st, stats)
	seedCatalogue(st)
	seedConfigs(st, master)
	seedConditionalFlow(st, master)
	seedJobHistory(s, master)
	seedDataApps(st, master)
	seedSemanticLayer(s)
}

// newDemoTable builds a table's state from its spec, with descriptions.
func newDemoTable(st *state, ts tableSpec, b *bucket, created, lastImport time.Time) *table {
	t := &table{id: ts.bucket + "." + ts.name, name: ts.name, primaryKey: ts.pk, bucket: b, created: created, lastImport: lastImport}
	for _, c := range ts.cols {
		t.columns = append(t.columns, column{name: c.name, kbcType: c.typ, nullable: c.nullable})
	}
	t.metadata = []*metadata{
		{id: fmt.Sprint(st.nextID()), key: "KBC.description", value: ts.desc, provider: "user", timestamp: created},
		{id: fmt.Sprint(st.nextID()), key: "KBC.createdBy.component.id", value: demoWriterOf(ts.bucket, st.s.sqlTransformation()), provider: "system", timestamp: created},
	}
	t.colMeta = map[string][]*metadata{}
	for _, c := range ts.cols {
		t.colMeta[c.name] = []*metadata{
			{id: fmt.Sprint(st.nextID()), key: "KBC.description", value: c.desc, provider: "user", timestamp: created},
			{id: fmt.Sprint(st.nextID()), key: "KBC.datatype.basetype", value: baseType(c.typ), provider: "storage", timestamp: created},
		}
	}
	return t
}

func demoWriterOf(bucketID, transformation string) string {
	switch bucketID {
	case "in.c-crm":
		return "keboola.ex-db-mysql"
	case "in.c-erp":
		return "keboola.ex-aws-s3"
	case "in.c-web":
		return "keboola.ex-http"
	default:
		return transformation
	}
}

// loadTable creates a table in its bucket schema, fills it and measures it.
func loadTable(ctx context.Context, db *stackDB, ts tableSpec, rows [][]any) (tableStats, error) {
	var st tableStats
	defs := make([]string, len(ts.cols))
	for i, c := range ts.cols {
		defs[i] = quoteIdent(c.name) + " " + engineType(c.typ)
	}
	target := quoteIdent(ts.bucket) + "." + quoteIdent(ts.name)
	if _, err := db.ExecContext(ctx, fmt.Sprintf("CREATE TABLE %s (%s)", target, strings.Join(defs, ", "))); err != nil {
		return st, err
	}
	if ts.fill != "" {
		if _, err := db.ExecContext(ctx, ts.fill); err != nil {
			return st, err
		}
	} else if err := appendRows(ctx, db, ts, rows); err != nil {
		return st, err
	}
	// Row count and size come from the stored data, so computed tables are measured too.
	err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT COUNT(*), COALESCE(SUM(%s), 0) FROM %s",
		rowLengthExpr(ts.cols), target)).Scan(&st.rows, &st.size)
	return st, err
}

// rowLengthExpr is a row's size as exported text.
func rowLengthExpr(cols []colSpec) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = "COALESCE(LENGTH(CAST(" + quoteIdent(c.name) + " AS VARCHAR)), 0)"
	}
	return strings.Join(parts, " + ")
}

// appendRows loads rows through DuckDB's appender, which takes the demo's
// 15,000 rows in milliseconds where row-by-row INSERTs take a second.
func appendRows(ctx context.Context, db *stackDB, ts tableSpec, rows [][]any) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		app, err := duckdb.NewAppender(dc.(driver.Conn), db.name, ts.bucket, ts.name)
		if err != nil {
			return err
		}
		vals := make([]driver.Value, len(ts.cols))
		for _, row := range rows {
			for i, c := range ts.cols {
				if vals[i], err = engineValue(c.typ, row[i]); err != nil {
					app.Close()
					return err
				}
			}
			if err := app.AppendRow(vals...); err != nil {
				app.Close()
				return err
			}
		}
		return app.Close()
	})
}
